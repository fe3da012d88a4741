"""The version of harvester (a leaf module: what needs the version imports it, not the package
face). pyproject.toml reads it too (`[tool.setuptools.dynamic]`)."""

__version__ = "0.3.0"
