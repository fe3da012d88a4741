"""`harvester new source|sink NAME`: a plugin package to start from, that installs and passes
`harvester check NAME` as it is.

The files come from `templates/<kind>/` (``$name``-style placeholders, `string.Template`); a
path part ``MODULE`` becomes the package's name. The expected records are not templates: once
the files are written, the new plugin is loaded from them and its fixture is read, as
`harvester check NAME --update-expected` would, so they are what this harvester writes.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from string import Template

from ..errors import UsageError
from ..version import __version__

TEMPLATES = Path(__file__).parent / "templates"
NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")


def names(name: str) -> dict[str, str]:
    """What the templates fill in for plugin `name`."""
    if not NAME.fullmatch(name):
        raise UsageError(
            f"plugin name {name!r}: use lower-case letters, digits and single hyphens "
            "(e.g. 'my-listing')"
        )
    module = "harvester_" + name.replace("-", "_")
    return {
        "name": name,
        "module": module,
        "dist": f"harvester-{name}",
        "cls": "".join(part.capitalize() for part in name.split("-")),
        "harvester_version": __version__,
    }


def make_plugin(kind: str, name: str, folder: Path) -> Path:
    """Write the package of a new `kind` ("source" or "sink") plugin into `folder`."""
    values = names(name)
    _refuse_taken(kind, name)
    if folder.exists() and any(folder.iterdir()):
        raise UsageError(f"{folder}: exists and is not empty; choose another --dir")
    templates = TEMPLATES / kind
    for template in sorted(p for p in templates.rglob("*.tmpl") if p.is_file()):
        relative = template.relative_to(templates).with_suffix("")
        target = folder / str(relative).replace("MODULE", values["module"])
        target.parent.mkdir(parents=True, exist_ok=True)
        text = Template(template.read_text(encoding="utf-8")).substitute(values)
        target.write_text(text, encoding="utf-8")
    _write_expected(folder / values["module"], values)
    return folder


def _refuse_taken(kind: str, name: str) -> None:
    from ..plugins import load_plugins

    registry = load_plugins()
    registry.load_all()  # the lazy registry knows only what it has imported
    table = registry.sources if kind == "source" else registry.sinks
    if name in table or any(p.plugin == name for p in registry.plugins):
        raise UsageError(f"a plugin or {kind} named {name!r} is installed already; choose another")


def _write_expected(package: Path, values: dict[str, str]) -> None:
    """Load the new plugin from its files and write its expected records."""
    from ..checks.runner import check_class

    module_name = f"_harvester_new_{values['module']}"
    spec = importlib.util.spec_from_file_location(
        module_name, package / "__init__.py", submodule_search_locations=[str(package)]
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
        classes = [
            getattr(module, attr)
            for attr in dir(module)
            if isinstance(getattr(module, attr), type)
            and getattr(getattr(module, attr), "name", None) == values["name"]
        ]
        for cls in classes:
            report = check_class(cls, update_expected=True, only=["expected-records"])
            if not report.ok:
                raise UsageError(f"the new plugin fails its own check:\n{report.text()}")
    finally:
        del sys.modules[module_name]
