"""What a plugin declares for `harvester check`: its fixtures and how to drive it.

A source or sink class sets a `check` class attribute; `harvester check` reads it::

    class Listing(FileSource):
        name = "listing"
        check = SourceCheck(fixtures=["fixtures/day"])   # a folder: inputs + expected_records.jsonl

    class Csv(Sink):
        name = "csv"
        check = SinkCheck(options={"path": "out/papers.csv"}, read_back=read_csv)

Paths are relative to the folder of the module that declares `check` (so they travel with the
package: list them as package data), or absolute.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

EXPECTED = "expected_records.jsonl"
# Never compared: the run stamps it (a resumed run keeps its first run's).
VOLATILE = ("harvested_at",)

ReadBack = Callable[[Path, dict[str, Any]], list[dict[str, Any]]]


@dataclass(frozen=True)
class SourceCheck:
    """A source's fixtures and options for `harvester check`.

    `fixtures`: folders, each holding the input files of one case and the `expected_records.jsonl`
    they must read to (written by `harvester check PLUGIN --update-expected`). Every file of the
    folder but that one is given to the source as an input, by name, the folder being the
    run's base directory (so `source_ref`s are stable). `not_listings`: files that are not
    listings (an error page the upstream really serves); the check adds an empty page, an error
    page and a login wall of its own unless `generated_not_listings` is False. `cut`: inputs cut
    midway, which must never end `complete`. `options`: the source's options (a config table,
    without `inputs`); `bad_options`: tables that must fail when the run is built.
    `declares_totals`: every complete target must declare its total (`Target.declare`).
    `ordered`: records must come in the expected order. `volatile`: record fields left out of
    the comparison besides `harvested_at`. `fetches`: whether the politeness check applies
    (None: when the class has its own `fetch()`); `serve(urls)` returns the options that make
    the source read the given URLs (default: ``{"inputs": urls}``).

    `site(url)`: for a source that builds its own URLs (an API, OAI-PMH) rather than reading
    inputs: each fixture folder is then what the upstream answers, served by the check's own
    server below `url` (each file at `url/<file name>`, whatever the query string), and
    `site(url)` returns the options that make the source read it (its base URL, what to ask
    for). In the expected records that URL reads `http://site.invalid`. `not_listings` and `cut`
    are then folders served the same way."""

    fixtures: Sequence[str] = ()
    options: Mapping[str, Any] = field(default_factory=dict)
    bad_options: Sequence[Mapping[str, Any]] = ()
    not_listings: Sequence[str] = ()
    generated_not_listings: bool = True
    cut: Sequence[str] = ()
    declares_totals: bool = False
    ordered: bool = True
    volatile: Sequence[str] = ()
    fetches: bool | None = None
    serve: Callable[[list[str]], dict[str, Any]] | None = None
    site: Callable[[str], dict[str, Any]] | None = None


@dataclass(frozen=True)
class SinkCheck:
    """A sink's options and reader for `harvester check`.

    `options`: the sink's config table; relative paths resolve in the check's own folder.
    `read_back(directory, options)`: the records the output holds, as dicts with at least
    `key` and `title` (the check writes the kit's sample papers and reads them back).
    `expected`: an `expected_records.jsonl` of what the sample papers read back to (the sink's
    own view of a paper: its columns, its fields). `unwritable`: options under which the sink
    cannot write (default: its own options below a base directory that is a file).
    `appends`: an append log, where writing the same papers again adds them again.
    `needs`: options the user gives on the command line (``--option url=...``).
    `bad_options`: tables that must fail when the run is built. `fresh(options)`: a context
    manager giving options for a new, empty output and removing it after (a database sink: a
    database of its own per scenario); by default each scenario writes into a new folder."""

    options: Mapping[str, Any] = field(default_factory=dict)
    read_back: ReadBack | None = None
    expected: str | None = None
    unwritable: Mapping[str, Any] | None = None
    appends: bool = False
    volatile: Sequence[str] = ()
    needs: Sequence[str] = ()
    bad_options: Sequence[Mapping[str, Any]] = ()
    fresh: Callable[[dict[str, Any]], AbstractContextManager[dict[str, Any]]] | None = None


def declared_check(cls: type) -> tuple[SourceCheck | SinkCheck | None, Path]:
    """The `check` a class declares (or inherits) and the folder its paths are relative to:
    that of the module of the class that declared it."""
    for klass in cls.__mro__:
        spec = klass.__dict__.get("check")
        if spec is not None:
            return spec, _module_folder(klass)
    return None, _module_folder(cls)


def _module_folder(cls: type) -> Path:
    try:
        return Path(inspect.getfile(cls)).resolve().parent
    except (TypeError, OSError):  # a class defined interactively
        return Path.cwd()


def resolve(folder: Path, path: str) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else folder / p
