"""Every setting a user can write in a config is documented: each field of `[run]`, `[fetch]`
and every built-in plugin's options appears in the README or a page of docs/, as `name` or
`name = ...`."""

from __future__ import annotations

import re

import pytest

from harvester.config import RunSettings
from harvester.fetch.settings import FetchSettings
from harvester.plugins import load_plugins

from .conftest import ROOT

DOCS = "\n".join(
    p.read_text(encoding="utf-8") for p in [ROOT / "README.md", *sorted(ROOT.glob("docs/*.md"))]
)


def settings() -> list[tuple[str, type]]:
    registry = load_plugins()
    found: list[tuple[str, type]] = [("[run]", RunSettings), ("[fetch]", FetchSettings)]
    found += [(f"source {n}", c.Options) for n, c in sorted(registry.sources.items())]
    found += [(f"sink {n}", c.Options) for n, c in sorted(registry.sinks.items())]
    return found


@pytest.mark.parametrize(("owner", "options"), settings(), ids=lambda x: getattr(x, "__name__", x))
def test_every_setting_is_documented(owner, options):
    missing = [
        name
        for name in options.__struct_fields__
        if not re.search(rf"`{name}`|`{name} =|^\s*{name}\s*=|\b{name} = ", DOCS, re.MULTILINE)
    ]
    assert not missing, f"{owner}: settings missing from README.md and docs/: {missing}"
