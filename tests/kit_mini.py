"""A small, correct source and sink, the originals of the kit's mutants (tests/kit_mutants.py).

`MiniSource` reads "mini" listings (tests/fixtures/kit/mini/day/listing.tsv): a `# mini
listing` first line, `# day: DATE`, a header row, one tab-separated paper per row, and a
`# total: N` footer (the listing's own count; a listing without it was cut). It fetches URLs
through the run's client. `MiniSink` writes papers as JSON lines to `path`, staged in a partial
file until DONE, with the lifecycle the run drives.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Annotated, Any

import msgspec

from harvester import (
    FileSource,
    FileSourceOptions,
    InputError,
    Outcome,
    Paper,
    Rejected,
    Sink,
    SinkError,
    SinkOptions,
    Target,
)
from harvester.checks import SinkCheck, SourceCheck
from harvester.files import is_url
from harvester.normalise import clean_text

FIRST_LINE = "# mini listing"
COLUMNS = ["id", "title", "abstract", "authors", "stamp", "upvotes"]


class MiniOptions(FileSourceOptions, kw_only=True, forbid_unknown_fields=True):
    min_title_length: Annotated[int, msgspec.Meta(ge=1)] = 1


class MiniSource(FileSource):
    name = "mini"
    Options: Any = MiniOptions
    trusted = True
    check = SourceCheck(
        fixtures=["fixtures/kit/mini/day"],
        cut=["fixtures/kit/mini/cut/cut.tsv"],
        bad_options=[{"min_title_length": 0}],
        declares_totals=True,
    )

    def fetch(self, target: Target) -> bytes | None:
        return self.context.get(target.id).content if is_url(target.id) else None

    def text(self, target: Target) -> str:
        data = target.fetched if is_url(target.id) else self.read_bytes(target)
        return data.decode("utf-8")

    def read(self, target: Target) -> Iterator[Paper | Rejected]:
        lines = self.text(target).splitlines()
        if not lines or lines[0] != FIRST_LINE:
            raise InputError(f"{target.id}:1", f"not a mini listing: no {FIRST_LINE!r} line")
        day = dt.date.fromisoformat(lines[1].removeprefix("# day: "))
        if lines[-1].startswith("# total: "):
            target.declare(total=int(lines[-1].removeprefix("# total: ")))
        else:
            target.cut_short("no '# total:' line: the listing ends before its end")
        for number, line in enumerate(lines[3:], 4):
            if line and not line.startswith("#"):
                yield self.entry(line.split("\t"), f"{target.id}:{number}", day)

    def entry(self, row: list[str], where: str, day: dt.date) -> Paper | Rejected:
        if len(row) != len(COLUMNS):
            return Rejected(reason=f"{len(row)} columns", source_ref=where, raw="\t".join(row))
        arxiv_id, title, abstract, authors, stamp, upvotes = row
        title = self.clean_title(title)
        if title is None or len(title) < self.options.min_title_length:
            return Rejected(reason="no title", source_ref=where, raw="\t".join(row))
        return Paper(
            arxiv_id=arxiv_id or None,
            title=title,
            abstract=clean_text(abstract),
            authors=self.authors(authors),
            published=self.day_of(stamp),
            upvotes=int(upvotes),
            listing_date=day,
            source_ref=where,
        )

    def clean_title(self, title: str) -> str | None:
        return clean_text(title)

    def authors(self, text: str) -> list[str]:
        return [a for a in (clean_text(x) for x in text.split(";")) if a]

    def day_of(self, stamp: str) -> dt.date:
        """The UTC day of a timestamp (`2026-03-14T02:30:00Z`)."""
        return dt.datetime.fromisoformat(stamp).astimezone(dt.UTC).date()


class MiniSinkOptions(SinkOptions, kw_only=True, forbid_unknown_fields=True):
    path: str


def read_mini(directory: Path, options: dict[str, Any]) -> list[dict[str, Any]]:
    path = directory / options["path"]
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


class MiniSink(Sink):
    """Papers as JSON lines (key, title, authors, published), replaced whole at DONE."""

    name = "mini-sink"
    Options: Any = MiniSinkOptions
    check = SinkCheck(
        options={"path": "out/mini.jsonl"},
        read_back=read_mini,
        expected="fixtures/kit/mini/sink_expected_records.jsonl",
    )

    @property
    def replaces(self) -> bool:
        return True

    def open(self, resume: Any = None) -> None:
        self.path = self.context.resolve(self.options.path)
        self.partial = self.path.with_name(self.path.name + ".partial")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.file = self.partial.open("wb" if resume is None else "r+b")
        except OSError as exc:
            raise SinkError(f"{self.partial}: cannot open: {exc}") from None
        if resume is not None:
            self.file.truncate(resume)
            self.file.seek(resume)

    def write(self, papers: Sequence[Paper]) -> None:
        for paper in papers:
            self.file.write(self.line(paper))

    def line(self, paper: Paper) -> bytes:
        row = {
            "key": paper.key,
            "title": paper.title,
            "authors": paper.authors,
            "published": paper.published.isoformat() if paper.published else None,
        }
        return json.dumps(row, ensure_ascii=False).encode("utf-8") + b"\n"

    def commit(self) -> Any:
        self.file.flush()
        os.fsync(self.file.fileno())
        return self.file.tell()

    def close(self, outcome: Outcome) -> None:
        self.file.close()
        if outcome is Outcome.DONE:
            os.replace(self.partial, self.path)
        elif outcome is Outcome.ABANDON:
            self.partial.unlink(missing_ok=True)
