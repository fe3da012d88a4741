"""The package list, found by setuptools (everything else is in pyproject.toml): the core's
packages as they are, and the built-ins' from plugins/, installed as harvester_plugins."""

from setuptools import find_packages, setup

setup(
    packages=[
        *find_packages(include=["harvester", "harvester.*"]),
        "harvester_plugins",
        *(f"harvester_plugins.{name}" for name in find_packages("plugins")),
    ]
)
