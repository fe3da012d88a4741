"""Built-in plugins of harvester, installed as `harvester_plugins`.

Each module is an entry point of the `harvester` group, registered like any third-party plugin.
"""
