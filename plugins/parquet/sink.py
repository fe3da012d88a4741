"""The parquet sink's lifecycle. ``rows = "records"`` (the default) is here: every commit writes
the records written since the last one, one file per partition, each complete before it
appears; ``rows = "papers"`` is `.papers.PaperFiles`, which this sink hands everything to.
Layout: `.layout`; modes, checkpoints and crash safety: the package's docstring.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import secrets
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import msgspec
from harvester_plugins.check_readers import read_parquet

from harvester.api import Outcome, Sink, SinkOptions
from harvester.atomic import fsync_dir
from harvester.checks import SinkCheck
from harvester.errors import SinkError
from harvester.schema import Paper

from .layout import PARTITION_FIELDS, RECORD_FILE, partition_folder, to_table
from .read import check_layout


class ParquetSinkOptions(SinkOptions, kw_only=True, forbid_unknown_fields=True):
    path: str  # the folder
    partition_by: list[str] = msgspec.field(default_factory=lambda: ["listing_date"])
    mode: Literal["replace", "append"] | None = None  # None: append when the run keeps state
    compression: Literal["zstd", "snappy", "gzip", "none"] = "zstd"
    rows: Literal["records", "papers"] = "records"  # papers: one row per paper, merged

    def __post_init__(self) -> None:
        unknown = [f for f in self.partition_by if f not in PARTITION_FIELDS]
        if unknown:
            raise ValueError(
                f"partition_by: {unknown} cannot partition; choose from {list(PARTITION_FIELDS)}"
            )
        if len(set(self.partition_by)) != len(self.partition_by):
            raise ValueError("partition_by names a field twice")


class ParquetSink(Sink):
    name = "parquet"
    Options = ParquetSinkOptions
    options: ParquetSinkOptions
    check = SinkCheck(
        options={"path": "out/papers", "mode": "replace"},
        read_back=read_parquet,
        expected="check/expected_records.jsonl",
        bad_options=[{"partition_by": ["title"]}],
    )

    @property
    def mode(self) -> str:
        return self.options.mode or ("append" if self.context.incremental else "replace")

    @property
    def replaces(self) -> bool:
        return self.mode == "replace"

    papers: Any = None  # the PaperFiles this sink hands everything to in rows = "papers"

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
        if self.options.rows == "papers":
            from .papers import PaperFiles

            self.papers = PaperFiles(self.options, self.context, mode=self.mode)
            self.papers.open(resume)
            return
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
            if self.mode == "append":  # replace swaps the whole folder: whatever it held goes
                check_layout(self.folder, "records")
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
        now = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")  # runs sort by their start
        self.run, self.files, self.records = f"{now}-{secrets.token_hex(3)}", 0, 0
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
        saved = checkpoint.get("records")  # None: a checkpoint of harvester 0.2
        self.records = saved or 0
        if self.mode == "replace" and not self.staging.exists():
            if self.files and not any(_run_files(self.folder, self.run)):
                raise SinkError(f"{self.folder}: the checkpoint's files are gone")
            self.published = True  # killed after publishing, before the run state was cleared
            return
        self.write_dir.mkdir(parents=True, exist_ok=True)
        kept = 0
        for path, number in _run_files(self.write_dir, self.run):
            if number >= self.files:  # committed after the checkpoint the run state holds
                path.unlink()
            elif saved is None:
                kept += _row_count(path)
        _fsync_tree(self.write_dir)
        if saved is None:
            self.records = kept

    def write(self, papers: Sequence[Paper]) -> None:
        if self.papers is not None:
            return self.papers.write(papers)
        if self.published:
            raise SinkError(f"{self.folder}: already published by the resumed run")
        self.pending.extend(papers)

    def commit(self) -> dict[str, Any]:
        if self.papers is not None:
            return self.papers.commit()
        if self.pending and not self.published:
            import pyarrow as pa

            try:
                self._write_files(self.pending)
            except (OSError, pa.ArrowException) as exc:
                raise SinkError(f"{self.folder}: cannot write Parquet files: {exc}") from exc
            self.pending = []
        return {"mode": self.mode, "run": self.run, "files": self.files, "records": self.records}

    def _write_files(self, papers: list[Paper]) -> None:
        """One file per partition; each record's `log_seq` keeps the order the run wrote them
        in (a partition's file holds its records only)."""
        by_partition: dict[tuple[str, ...], tuple[list[Paper], list[int]]] = {}
        for seq, paper in enumerate(papers, self.records):
            group = by_partition.setdefault(
                partition_folder(paper, self.options.partition_by), ([], [])
            )
            group[0].append(paper)
            group[1].append(seq)
        for names, (papers_in, seqs) in sorted(by_partition.items()):
            file_name = f"part-{self.run}-{self.files:06d}.parquet"
            target = self.write_dir.joinpath(*names) / file_name
            write_file(to_table(papers_in, seqs), target, self.tmp, self.options.compression)
            self.files += 1  # counted only once the file is in place
        self.records += len(papers)

    def close(self, outcome: Outcome) -> None:
        if self.papers is not None:
            return self.papers.close(outcome)
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


def write_file(table, path: Path, tmp: Path, compression: str) -> None:
    """Write `table` to `path` whole: under `tmp`, fsynced, then renamed into place."""
    import pyarrow.parquet as pq

    staged = tmp / path.name
    pq.write_table(table, staged, compression=None if compression == "none" else compression)
    _fsync_file(staged)
    if not path.parent.is_dir():
        path.parent.mkdir(parents=True)
        fsync_dir(path.parent.parent)
    os.replace(staged, path)
    fsync_dir(path.parent)


def _row_count(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.read_metadata(path).num_rows


def _run_files(folder: Path, run: str):
    """(path, number) of every file the run `run` wrote under `folder`."""
    for path in folder.rglob("part-*.parquet"):
        match = RECORD_FILE.match(path.name)
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
