"""Deliberately broken variants of the mini source and sink (tests/kit_mini.py), one failure
class each, as real scrapers and writers have them; `MUTANTS` lists each with the check of
`harvester check` that must catch it (tests/test_check_mutants.py). Each keeps its original's
`name`, so that its records differ from the expected ones only where it is broken."""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Annotated

import msgspec

from harvester import FetchError, FileSourceOptions, Outcome, Paper, Rejected, SinkOptions, Target
from harvester.files import is_url

from .kit_mini import FIRST_LINE, MiniSink, MiniSource

# -- sources -----------------------------------------------------------------------------------


class SilentEmptyPage(MiniSource):
    """A page without the listing's first line is taken for a day without papers."""

    def read(self, target):
        lines = self.text(target).splitlines()
        if not lines or lines[0] != FIRST_LINE:
            target.mark_empty("nothing listed")
            return
        yield from super().read(target)


class NonListingAsPapers(MiniSource):
    """Any page is read leniently: every line of what is not a listing becomes a title."""

    def read(self, target):
        lines = self.text(target).splitlines()
        if lines and lines[0] == FIRST_LINE:
            yield from super().read(target)
            return
        for number, line in enumerate(lines, 1):
            if line.strip():
                yield Paper(title=line.strip(), source_ref=f"{target.id}:{number}")


class DroppedField(MiniSource):
    """The authors column is no longer read (the page's markup changed)."""

    def authors(self, text):
        return []


class MovedField(MiniSource):
    """The abstract moved into `extra` under another name: consumers of `abstract` get null."""

    def entry(self, row, where, day):
        item = super().entry(row, where, day)
        if isinstance(item, Paper):
            item.extra, item.abstract = {"mini": {"summary": item.abstract}}, None
        return item


class ShiftedField(MiniSource):
    """Each paper gets the authors of the row before it (an off-by-one in the row loop)."""

    def read(self, target):
        previous: list[str] = []
        for item in super().read(target):
            if isinstance(item, Paper):
                item.authors, previous = previous, item.authors
            yield item


class SwappedFields(MiniSource):
    """Title and abstract come from each other's column."""

    def entry(self, row, where, day):
        if len(row) == 6:
            row = [row[0], row[2], row[1], *row[3:]]
        return super().entry(row, where, day)


class WrongTimeZone(MiniSource):
    """Timestamps are turned into days in the machine's zone (here UTC-8), not UTC."""

    def day_of(self, stamp):
        moment = dt.datetime.fromisoformat(stamp)
        return moment.astimezone(dt.timezone(dt.timedelta(hours=-8))).date()


class StampsToday(MiniSource):
    """The listing's day is the day the scraper ran (the page's own day ignored)."""

    def entry(self, row, where, day):
        return super().entry(row, where, dt.date.today())


class UncleanText(MiniSource):
    """Trusted, yet its titles keep the page's double spaces and trailing blanks."""

    def clean_title(self, title):
        return title.lstrip() or None


class Untyped(MiniSource):
    """Trusted, yet its counts are the page's text, not integers."""

    def entry(self, row, where, day):
        item = super().entry(row, where, day)
        if isinstance(item, Paper) and item.upvotes is not None:
            item.upvotes = str(item.upvotes)  # type: ignore[assignment]
        return item


class RejectWithoutLocation(MiniSource):
    """Rejects say what but not where."""

    def entry(self, row, where, day):
        item = super().entry(row, where, day)
        if isinstance(item, Rejected):
            item.source_ref = "a row without a title"
        return item


class NoTotal(MiniSource):
    """The listing's own count is never declared, so a short read looks complete."""

    def read(self, target):
        yield from super().read(target)
        target.declared.total = None


class CutReadAsComplete(MiniSource):
    """A listing that ends without its footer is read as if it were whole."""

    def read(self, target):
        yield from super().read(target)
        if target.declared.cut_short is not None:
            target.declared.cut_short = None


class UnstableTargetIds(MiniSource):
    """Each run names its targets anew (a session id in the id): nothing is ever skipped."""

    def targets(self):
        run = uuid.uuid4().hex[:8]
        return [Target(f"{t.id}#run-{run}", fingerprint=t.fingerprint, data=t.data)
                for t in super().targets()]  # fmt: skip


class LeaksBetweenTargets(MiniSource):
    """Papers kept in a class-level cache are yielded again by every later read."""

    seen: list[Paper] = []  # noqa: RUF012 (the bug)

    def read(self, target):
        yield from (msgspec.structs.replace(p) for p in LeaksBetweenTargets.seen)
        for item in super().read(target):
            if isinstance(item, Paper):
                LeaksBetweenTargets.seen.append(msgspec.structs.replace(item))
            yield item


class MemoCrash(MiniSource):
    """Trusts its memo's format: a memo another version wrote crashes the read."""

    def read(self, target):
        seen = int(target.memo.get("rows", "0"))
        count = 0
        for item in super().read(target):
            count += 1
            yield item
        target.remember(rows=str(max(seen, count)))


class BadOptionAccepted(MiniSource):
    """Its options accept anything: a misspelt option is silently ignored."""

    class Options(FileSourceOptions, kw_only=True, forbid_unknown_fields=False):
        min_title_length: Annotated[int, msgspec.Meta(ge=1)] = 1


class OptionCheckedLate(MiniSource):
    """The option's range is checked when targets are listed, not when the run is built."""

    class Options(FileSourceOptions, kw_only=True, forbid_unknown_fields=True):
        min_title_length: int = 1

    def targets(self):
        if self.options.min_title_length < 1:
            raise ValueError("min_title_length must be >= 1")
        return super().targets()


def _get(url: str) -> tuple[int, bytes, dict[str, str]]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, b"", dict(exc.headers)


class RetryBeforeReset(MiniSource):
    """Fetches with a client of its own that retries a 429 at once."""

    def fetch(self, target):
        if not is_url(target.id):
            return None
        for _ in range(3):
            status, body, _headers = _get(target.id)
            if status == 200:
                return body
        raise FetchError(target.id, f"HTTP {status}")


class RobotsIgnored(MiniSource):
    """Fetches with a client of its own: waits out a 429, never reads robots.txt."""

    def fetch(self, target):
        if not is_url(target.id):
            return None
        for _ in range(3):
            status, body, headers = _get(target.id)
            if status == 200:
                return body
            time.sleep(float(headers.get("Retry-After", "1")))
        raise FetchError(target.id, f"HTTP {status}")


# -- sinks -------------------------------------------------------------------------------------


class CrashingSink(MiniSink):
    """Writes ASCII only: a title with an accent crashes it."""

    def line(self, paper):
        return super().line(paper).decode().encode("ascii")


class PartialCommitVisible(MiniSink):
    """Writes straight into the published file: readers see a run half-way."""

    def open(self, resume=None):
        super().open(resume)
        self.file.close()
        self.file = self.path.open("ab" if resume is not None else "wb")

    def close(self, outcome):
        self.file.close()
        self.partial.unlink(missing_ok=True)


class StateBeforeWrite(MiniSink):
    """Says a commit is durable while it holds the papers in memory until DONE."""

    def open(self, resume=None):
        super().open(resume)
        self.held: list[bytes] = []

    def write(self, papers):
        self.held += [self.line(p) for p in papers]

    def commit(self):
        return self.file.tell()  # "durable": nothing is on disk before DONE

    def close(self, outcome):
        if outcome is Outcome.DONE:
            self.file.write(b"".join(self.held))
        super().close(outcome)


class NoCutBackOnResume(MiniSink):
    """Resumes by appending: what was written after the last commit survives."""

    def open(self, resume=None):
        if resume is None:
            super().open(None)
            return
        self.path = self.context.resolve(self.options.path)
        self.partial = self.path.with_name(self.path.name + ".partial")
        self.file = self.partial.open("ab")


class AbandonPublishes(MiniSink):
    """Publishes whatever it holds, however the run ended."""

    def close(self, outcome):
        super().close(Outcome.DONE)


class OpensLate(MiniSink):
    """Opens its file at the first write: an unwritable path fails mid-run, not at open."""

    def open(self, resume=None):
        self.resume, self.file = resume, None

    def write(self, papers):
        if self.file is None:
            MiniSink.open(self, self.resume)
        super().write(papers)

    def commit(self):
        if self.file is None:
            MiniSink.open(self, self.resume)
        return super().commit()

    def close(self, outcome):
        if self.file is not None:
            super().close(outcome)


class ReplacesDishonest(MiniSink):
    """Says it replaces its output, but adds each run's papers to what it held."""

    def close(self, outcome):
        self.file.close()
        if outcome is Outcome.DONE:
            old = self.path.read_bytes() if self.path.exists() else b""
            self.path.write_bytes(old + self.partial.read_bytes())
        self.partial.unlink(missing_ok=True)


class DuplicatesOnRewrite(ReplacesDishonest):
    """Appends each run's papers (and says so): writing the same papers twice doubles them."""

    @property
    def replaces(self):
        return False


class CheckpointNotJson(MiniSink):
    """Returns a checkpoint the run state cannot save."""

    def commit(self):
        super().commit()
        return Path(self.partial)


class DroppedColumn(MiniSink):
    """No longer writes the authors."""

    def line(self, paper):
        row = json.loads(super().line(paper))
        del row["authors"]
        return json.dumps(row, ensure_ascii=False).encode() + b"\n"


class SinkOptionAccepted(MiniSink):
    """Its options accept anything: a misspelt option is silently ignored."""

    class Options(SinkOptions, kw_only=True, forbid_unknown_fields=False):
        path: str


# failure class -> (mutant, the check that must catch it)
MUTANTS: dict[str, tuple[type, str]] = {
    "silent empty page": (SilentEmptyPage, "not-a-listing"),
    "non-listing page read as papers": (NonListingAsPapers, "not-a-listing"),
    "dropped field": (DroppedField, "expected-records"),
    "shifted field": (ShiftedField, "expected-records"),
    "swapped fields": (SwappedFields, "expected-records"),
    "wrong time zone": (WrongTimeZone, "expected-records"),
    "today's date for the listing's": (StampsToday, "expected-records"),
    "field moved out of the schema": (MovedField, "schema"),
    "unclean text from a trusted source": (UncleanText, "clean-typed"),
    "untyped counts from a trusted source": (Untyped, "clean-typed"),
    "reject without a location": (RejectWithoutLocation, "located"),
    "no declared total": (NoTotal, "outcomes"),
    "cut listing read as complete": (CutReadAsComplete, "cut-short"),
    "duplicate on re-run (unstable ids)": (UnstableTargetIds, "rerun"),
    "state leaking between targets": (LeaksBetweenTargets, "resume"),
    "crash on another version's memo": (MemoCrash, "foreign-memo"),
    "bad option accepted": (BadOptionAccepted, "options"),
    "option range checked late": (OptionCheckedLate, "options"),
    "retry before reset": (RetryBeforeReset, "politeness"),
    "robots.txt ignored": (RobotsIgnored, "politeness"),
    "crashing sink": (CrashingSink, "lifecycle"),
    "partial commit visible": (PartialCommitVisible, "invisible-before-commit"),
    "state before write": (StateBeforeWrite, "suspend-resume"),
    "no cut back on resume": (NoCutBackOnResume, "suspend-resume"),
    "abandoned run published": (AbandonPublishes, "abandon"),
    "unwritable output fails late": (OpensLate, "unwritable"),
    "replaces says True, appends": (ReplacesDishonest, "replaces"),
    "duplicates on re-write": (DuplicatesOnRewrite, "rewrite"),
    "checkpoint not JSON-able": (CheckpointNotJson, "lifecycle"),
    "dropped column in the output": (DroppedColumn, "expected-records"),
    "bad sink option accepted": (SinkOptionAccepted, "options"),
}
