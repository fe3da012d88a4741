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

# Plain classes, not dataclasses: making a dataclass runs generated code (~1 ms a class at
# every start, `harvester --help` included), and these are read-only records of the scan.


class Distribution:
    """An installed distribution's metadata directory; `metadata` and `version` as in
    `importlib.metadata.Distribution` (the `Name` and `Version` fields)."""

    __slots__ = ("path",)

    def __init__(self, path: str):
        self.path = path

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


class EntryPoint:
    """One entry point: `name = value` in `group`; `load()` imports `module[:attr]`."""

    __slots__ = ("dist", "group", "name", "value")

    def __init__(self, name: str, value: str, group: str, dist: Distribution | None = None):
        self.name, self.value, self.group, self.dist = name, value, group, dist

    def __repr__(self) -> str:
        return f"EntryPoint(name={self.name!r}, value={self.value!r}, group={self.group!r})"

    def load(self):
        module, _, attrs = self.value.partition(":")
        obj = importlib.import_module(module.strip())
        for attr in filter(None, attrs.strip().split(".")):
            obj = getattr(obj, attr)
        return obj


def entry_points(groups: tuple[str, ...]) -> dict[str, list[EntryPoint]]:
    """The entry points of these groups, by group, over every distribution on `sys.path`."""
    found: dict[str, list[EntryPoint]] = {g: [] for g in groups}
    # a file naming none of the groups is skipped before it is decoded and split (nearly
    # every installed distribution's: ~10 ms of each start in a venv of 100 distributions)
    needles = tuple({g.split(".", 1)[0].encode() for g in groups})
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
            _read(os.path.join(folder or ".", name), found, needles)
    return found


def _read(path: str, found: dict[str, list[EntryPoint]], needles: tuple[bytes, ...]) -> None:
    """The entry points of the distribution whose metadata is in folder `path`."""
    try:
        with open(os.path.join(path, "entry_points.txt"), "rb") as f:
            data = f.read()
    except OSError:
        return
    if not any(needle in data for needle in needles):
        return
    dist = Distribution(path)
    group: str | None = None
    for line in data.decode("utf-8").splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line[0] == "[" and line[-1] == "]":
            group = line[1:-1].strip()
        elif group in found and "=" in line:
            name, _, value = line.partition("=")
            found[group].append(EntryPoint(name.strip(), value.strip(), group, dist))
