"""Installing a test plugin for a `harvester` subprocess: a module and its `.dist-info` (with
the `harvester` entry point) in a folder put on PYTHONPATH, which `importlib.metadata` finds
exactly as it finds a pip-installed distribution."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

from .conftest import BUILTIN_PLUGINS


def install_plugin(folder: Path, name: str, module_source: str) -> dict[str, str]:
    """Write plugin `name` (the module `module_source`, registered as entry point `name`) under
    `folder`; the environment for a subprocess that loads it with the built-ins."""
    module = name.replace("-", "_")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{module}.py").write_text(textwrap.dedent(module_source), encoding="utf-8")
    info = folder / f"{module}-0.0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.0.1\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(f"[harvester]\n{name} = {module}\n", encoding="utf-8")
    path = os.pathsep.join(p for p in (str(folder), os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path, "HARVESTER_PLUGINS": f"{BUILTIN_PLUGINS},{name}"}
