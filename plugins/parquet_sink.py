"""The `parquet` sink: papers as a Hive-partitioned folder of Parquet files.

    [sinks.parquet]
    path = "out/papers"                # the folder
    partition_by = ["listing_date"]    # default; [] for no partitions; also published, source,
                                       # organization
    mode = "append"                    # default when the run keeps state, else "replace"

Layout: ``<path>/listing_date=2026-03-14/part-<run>-<n>.parquet``; a paper without a value for a
partition field goes to ``listing_date=__HIVE_DEFAULT_PARTITION__`` (Hive's name for null, which
DuckDB, polars and pyarrow read back as null). Partition columns live in the folder names only,
as Hive does. Columns are typed: dates as ``date32``, ``harvested_at`` as ``timestamp[us, UTC]``,
``authors`` as ``list<string>``, counts as ``int64``, ``extra`` as JSON text. Each file carries
``harvester.schema_version`` and ``harvester.schema_id`` in its key-value metadata.

Files: every `commit()` writes the papers written since the last one, one file per partition,
each complete before it appears (written under ``.<name>.tmp/`` beside the folder, fsynced, then
renamed into place), so a reader never sees half a file.

Modes:

* ``append``: files accumulate across runs; the folder is always readable.
* ``replace``: the run writes into the sibling ``<name>.partial/``; at DONE it takes the place of
  the folder (the old folder is moved to ``<name>.previous/`` and removed after the swap; a crash
  in between is finished at the next open). The folder holds exactly the last complete run's
  records.

Checkpoint: ``{"mode", "run", "files"}``: the run's name (in its file names) and how many files it
had committed. ``open(resume)`` removes the run's files numbered from ``files`` on, written after
the checkpoint the run state holds. SUSPEND keeps the committed files; ABANDON drops the
uncommitted papers and, in replace mode, the unpublished ``.partial``; committed files of an
append run stay, as the JSONL sink keeps its committed lines.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import re
import secrets
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import msgspec

from harvester.api import Outcome, Sink, SinkOptions
from harvester.atomic import fsync_dir
from harvester.errors import SinkError
from harvester.hookspecs import hookimpl
from harvester.schema import FIELDS, SCHEMA_ID, SCHEMA_VERSION, Paper

NULL_PARTITION = "__HIVE_DEFAULT_PARTITION__"
PARTITION_FIELDS = ("listing_date", "published", "source", "organization")
# Arrow type per Paper field, by name (pyarrow is imported when a sink opens, not when plugins
# load: it costs every command 0.2 s). A field added to the schema later and not listed here is
# written as JSON text (the tests check every current field is listed).
ARROW_TYPES: dict[str, str] = {
    "schema_version": "string",
    "key": "string",
    "arxiv_id": "string",
    "title": "string",
    "abstract": "string",
    "authors": "list<string>",
    "author_count": "int64",
    "organization": "string",
    "submitted_by": "string",
    "published": "date32",
    "published_raw": "string",
    "published_inferred": "bool",
    "upvotes": "int64",
    "comments": "int64",
    "listing_date": "date32",
    "url": "string",
    "source": "string",
    "source_ref": "string",
    "harvested_at": "timestamp[us, UTC]",
    "extra": "string",
}
JSON_FIELDS = ("extra",)
FILE_METADATA = {"harvester.schema_version": SCHEMA_VERSION, "harvester.schema_id": SCHEMA_ID}
_FILE_NAME = re.compile(r"^part-(?P<run>[0-9TZ]+-[0-9a-f]+)-(?P<n>[0-9]+)\.parquet$")


class ParquetSinkOptions(SinkOptions, kw_only=True, forbid_unknown_fields=True):
    path: str  # the folder
    partition_by: list[str] = msgspec.field(default_factory=lambda: ["listing_date"])
    mode: Literal["replace", "append"] | None = None  # None: append when the run keeps state
    compression: Literal["zstd", "snappy", "gzip", "none"] = "zstd"

    def __post_init__(self) -> None:
        unknown = [f for f in self.partition_by if f not in PARTITION_FIELDS]
        if unknown:
            raise ValueError(
                f"partition_by: {unknown} cannot partition; choose from {list(PARTITION_FIELDS)}"
            )
        if len(set(self.partition_by)) != len(self.partition_by):
            raise ValueError("partition_by names a field twice")


@functools.cache
def _arrow_type(name: str):
    import pyarrow as pa

    return {
        "string": pa.string(),
        "list<string>": pa.list_(pa.string()),
        "int64": pa.int64(),
        "date32": pa.date32(),
        "bool": pa.bool_(),
        "timestamp[us, UTC]": pa.timestamp("us", tz="UTC"),
    }[name]


def arrow_schema(exclude: Sequence[str] = ()):
    import pyarrow as pa

    fields = [
        pa.field(f, _arrow_type(ARROW_TYPES.get(f, "string"))) for f in FIELDS if f not in exclude
    ]
    return pa.schema(fields, metadata=FILE_METADATA)


def to_table(papers: Sequence[Paper], exclude: Sequence[str] = ()):
    """The papers as an Arrow table of `arrow_schema(exclude)`."""
    import pyarrow as pa

    schema = arrow_schema(exclude)
    encode = msgspec.json.encode
    columns = []
    for field in schema:
        values = [getattr(p, field.name) for p in papers]
        if field.name in JSON_FIELDS or field.name not in ARROW_TYPES:
            values = [None if v is None else encode(v).decode() for v in values]
        columns.append(pa.array(values, type=field.type))
    return pa.Table.from_arrays(columns, schema=schema)


def partition_value(value: Any) -> str:
    """A partition folder's value: ISO dates, other text percent-encoded as Hive escapes it."""
    if value is None or value == "":
        return NULL_PARTITION
    if isinstance(value, dt.date):
        return value.isoformat()
    return quote(str(value), safe="")


class ParquetSink(Sink):
    name = "parquet"
    Options = ParquetSinkOptions
    options: ParquetSinkOptions

    @property
    def mode(self) -> str:
        return self.options.mode or ("append" if self.context.incremental else "replace")

    @property
    def replaces(self) -> bool:
        return self.mode == "replace"

    def holds_at_least(self, count: int) -> bool | None:
        """Counts the rows the files' footers declare (no data is read)."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        folder = self.context.resolve(self.options.path)
        files = sorted(folder.rglob("*.parquet")) if folder.is_dir() else []
        rows = 0
        try:
            for path in files:
                rows += pq.ParquetFile(path).metadata.num_rows
                if rows >= count:
                    return True
        except (OSError, pa.ArrowException):
            return None  # opening it will say what is wrong
        return rows >= count

    def open(self, resume: Any = None) -> None:
        self.folder = self.context.resolve(self.options.path)
        parent, name = self.folder.parent, self.folder.name
        self.staging = parent / f"{name}.partial"
        self.previous = parent / f"{name}.previous"
        self.tmp = parent / f".{name}.tmp"
        self.pending: list[Paper] = []
        self.published = False
        try:
            parent.mkdir(parents=True, exist_ok=True)
            self._finish_interrupted_publish()
            shutil.rmtree(self.tmp, ignore_errors=True)  # half-written files of a killed run
            self.tmp.mkdir()
            if resume is None:
                self._start()
            else:
                self._resume(resume)
        except OSError as exc:
            raise SinkError(f"{self.folder}: cannot open the Parquet folder: {exc}") from exc

    @property
    def write_dir(self) -> Path:
        return self.staging if self.mode == "replace" else self.folder

    def _start(self) -> None:
        now = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        self.run, self.files = f"{now}-{secrets.token_hex(3)}", 0
        if self.mode == "replace":
            shutil.rmtree(self.staging, ignore_errors=True)  # an abandoned run's leftovers
        self.write_dir.mkdir(parents=True, exist_ok=True)

    def _resume(self, checkpoint: Any) -> None:
        if not (
            isinstance(checkpoint, dict)
            and checkpoint.get("mode") == self.mode
            and isinstance(checkpoint.get("run"), str)
            and isinstance(checkpoint.get("files"), int)
        ):
            raise SinkError(
                f"{self.folder}: cannot resume from checkpoint {checkpoint!r} (mode {self.mode!r})"
            )
        self.run, self.files = checkpoint["run"], checkpoint["files"]
        if self.mode == "replace" and not self.staging.exists():
            if self.files and not any(_run_files(self.folder, self.run)):
                raise SinkError(f"{self.folder}: the checkpoint's files are gone")
            self.published = True  # killed after publishing, before the run state was cleared
            return
        self.write_dir.mkdir(parents=True, exist_ok=True)
        for path, number in _run_files(self.write_dir, self.run):
            if number >= self.files:  # committed after the checkpoint the run state holds
                path.unlink()
        _fsync_tree(self.write_dir)

    def write(self, papers: Sequence[Paper]) -> None:
        if self.published:
            raise SinkError(f"{self.folder}: already published by the resumed run")
        self.pending.extend(papers)

    def commit(self) -> dict[str, Any]:
        if self.pending and not self.published:
            import pyarrow as pa

            try:
                self._write_files(self.pending)
            except (OSError, pa.ArrowException) as exc:
                raise SinkError(f"{self.folder}: cannot write Parquet files: {exc}") from exc
            self.pending = []
        return {"mode": self.mode, "run": self.run, "files": self.files}

    def _write_files(self, papers: list[Paper]) -> None:
        import pyarrow.parquet as pq

        by_partition: dict[tuple[str, ...], list[Paper]] = {}
        for paper in papers:
            values = tuple(partition_value(getattr(paper, f)) for f in self.options.partition_by)
            by_partition.setdefault(values, []).append(paper)
        compression = None if self.options.compression == "none" else self.options.compression
        for values, group in sorted(by_partition.items()):
            folder = self.write_dir.joinpath(
                *(f"{f}={v}" for f, v in zip(self.options.partition_by, values, strict=True))
            )
            file_name = f"part-{self.run}-{self.files:06d}.parquet"
            tmp = self.tmp / file_name
            table = to_table(group, self.options.partition_by)
            pq.write_table(table, tmp, compression=compression)
            _fsync_file(tmp)
            if not folder.is_dir():
                folder.mkdir(parents=True)
                fsync_dir(folder.parent)
            os.replace(tmp, folder / file_name)
            fsync_dir(folder)
            self.files += 1  # counted only once the file is in place

    def close(self, outcome: Outcome) -> None:
        if not hasattr(self, "pending"):
            return  # never opened
        try:
            if outcome is Outcome.DONE:
                self.commit()
                if self.mode == "replace" and not self.published:
                    self._publish()
            elif outcome is Outcome.ABANDON and self.mode == "replace":
                shutil.rmtree(self.staging, ignore_errors=True)
        except OSError as exc:
            raise SinkError(f"{self.folder}: cannot close: {exc}") from exc
        finally:
            self.pending = []
            shutil.rmtree(self.tmp, ignore_errors=True)

    # -- replace mode: swapping the folder ---------------------------------------------------

    def _publish(self) -> None:
        """Put `.partial` in the folder's place: folder -> .previous, .partial -> folder."""
        shutil.rmtree(self.previous, ignore_errors=True)
        if self.folder.exists():
            os.replace(self.folder, self.previous)
        os.replace(self.staging, self.folder)
        fsync_dir(self.folder.parent)
        shutil.rmtree(self.previous, ignore_errors=True)

    def _finish_interrupted_publish(self) -> None:
        """A crash between the two renames of `_publish` left no folder: the `.partial` was
        complete (publishing starts after the last commit), so finish; else restore."""
        if not self.folder.exists() and self.previous.exists():
            os.replace(self.staging if self.staging.exists() else self.previous, self.folder)
            fsync_dir(self.folder.parent)
        shutil.rmtree(self.previous, ignore_errors=True)


def _run_files(folder: Path, run: str):
    """(path, number) of every file the run `run` wrote under `folder`."""
    for path in folder.rglob("part-*.parquet"):
        match = _FILE_NAME.match(path.name)
        if match and match["run"] == run:
            yield path, int(match["n"])


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_tree(folder: Path) -> None:
    """Make removals under `folder` durable."""
    for directory in (folder, *(p for p in folder.rglob("*") if p.is_dir())):
        with contextlib.suppress(OSError):
            fsync_dir(directory)


@hookimpl
def register_sinks(register) -> None:
    register(ParquetSink)
