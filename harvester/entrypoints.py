"""The installed distributions' entry points, read straight from their `entry_points.txt`.

What `importlib.metadata.entry_points()` returns for the groups asked for, without importing
`importlib.metadata` (which pulls in email, typing and importlib.resources: about a quarter of
the time `harvester --help` takes). The same places are read: every `*.dist-info` and
`*.egg-info` directory on `sys.path`, the first distribution of a name winning (as Python
imports the first one). A distribution's name and version are read from its metadata only when
asked for (`harvester plugins` lists them).
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass


@dataclass(frozen=True)
class Distribution:
    """An installed distribution's metadata directory; `metadata` and `version` as in
    `importlib.metadata.Distribution` (the `Name` and `Version` fields)."""

    path: str

    @property
    def metadata(self) -> dict[str, str]:
        fields: dict[str, str] = {}
        for name in ("METADATA", "PKG-INFO"):
            try:
                with open(os.path.join(self.path, name), encoding="utf-8") as f:
                    for line in f:
                        if not line.strip():
                            break  # the headers end at the first blank line
                        key, _, value = line.partition(":")
                        fields.setdefault(key.strip(), value.strip())
                return fields
            except OSError:
                continue
        return fields

    @property
    def version(self) -> str | None:
        return self.metadata.get("Version")


@dataclass(frozen=True)
class EntryPoint:
    """One entry point: `name = value` in `group`; `load()` imports `module[:attr]`."""

    name: str
    value: str
    group: str
    dist: Distribution | None = None

    def load(self):
        module, _, attrs = self.value.partition(":")
        obj = importlib.import_module(module.strip())
        for attr in filter(None, attrs.strip().split(".")):
            obj = getattr(obj, attr)
        return obj


def entry_points(groups: tuple[str, ...]) -> dict[str, list[EntryPoint]]:
    """The entry points of these groups, by group, over every distribution on `sys.path`."""
    found: dict[str, list[EntryPoint]] = {g: [] for g in groups}
    seen: set[str] = set()
    for folder in sys.path:
        try:
            names = sorted(os.listdir(folder or "."))
        except OSError:  # a zip file, a missing folder
            continue
        for name in names:
            if not name.endswith((".dist-info", ".egg-info")):
                continue
            base = name.rpartition(".")[0]  # "{name}-{version}" or "{name}"
            project = base.partition("-")[0].lower().replace(".", "_")
            if project in seen:
                continue
            seen.add(project)
            path = os.path.join(folder or ".", name)
            _read(Distribution(path), found)
    return found


def _read(dist: Distribution, found: dict[str, list[EntryPoint]]) -> None:
    try:
        with open(os.path.join(dist.path, "entry_points.txt"), encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return
    group = None
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line[0] == "[" and line[-1] == "]":
            group = line[1:-1].strip()
        elif group in found and "=" in line:
            name, _, value = line.partition("=")
            found[group].append(EntryPoint(name.strip(), value.strip(), group, dist))
