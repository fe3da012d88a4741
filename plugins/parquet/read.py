"""Reading a folder the parquet sink wrote (`harvester.store`'s ``parquet`` kind), or one of its
files. Record files (``part-<run>-<n>.parquet``) are a log: replayed run by run (runs sort by
their start), each in the order it wrote its records (``log_seq``), through the database sinks'
merge. Paper files (``papers.parquet``, ``rows = "papers"``) hold one merged row per paper: its
latest sighting and its latest counts are all the history they keep.

Each file is read alone with its own schema (no partition inference), so a folder reads the
same whatever its partitions; files of harvester 0.2 (the partition field only in a folder
name ``<field>=<value>``) get it back from there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

from harvester_plugins.store.replay import RecordLog, RecordLogStore

from harvester.errors import SinkError
from harvester.schema import Paper
from harvester.store import StoreError

from .layout import (
    ARROW_TYPES,
    FROM_LEAD,
    LOG_SEQ,
    PAPERS_FILE,
    RECORD_FILE,
    folder_values,
    from_table,
)

PARQUET_MAGIC = b"PAR1"


def _is_parquet(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(4) == PARQUET_MAGIC
    except OSError:
        return False


def parquet_files(folder: Path) -> list[Path]:
    """The data files under `folder`: not the sink's temporary or hidden ones."""
    return sorted(
        p
        for p in folder.rglob("*.parquet")
        if not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )


def check_layout(folder: Path, rows: str) -> None:
    """Refuse to write `rows` ("records" or "papers") into a folder holding the other kind, or
    the partition folders of harvester 0.2: the two would read back as one muddle."""
    if not folder.is_dir():
        return
    for path in parquet_files(folder):
        kind = "papers" if path.name == PAPERS_FILE else "records"
        old = any("=" in p and "_partition=" not in p for p in path.relative_to(folder).parts)
        if kind != rows or old:
            what = "an older layout (partition folders <field>=...)" if old else f"{kind} rows"
            raise SinkError(
                f"{folder}: holds {what} ({path.relative_to(folder)}); this sink writes "
                f'rows = "{rows}": choose another path or move the folder away'
            )


class ParquetStore(RecordLogStore):
    name = "parquet"
    kind = "a Parquet folder of the parquet sink"

    @classmethod
    def claims(cls, location: str) -> bool:
        path = Path(location)
        if path.is_file():
            return _is_parquet(path)
        return path.is_dir() and any(parquet_files(path))

    def _files(self) -> list[tuple[Path, Path]]:
        """(root, file) of every data file; a single file is its own folder."""
        path = Path(self.location)
        return [(path.parent, path)] if path.is_file() else [(path, f) for f in parquet_files(path)]

    def batches(self) -> Iterator[list[Paper]]:
        for papers, _ in self._runs():
            yield papers

    def fill(self, log: RecordLog) -> None:
        for papers, leads in self._runs():
            log.add(papers, leads)

    def _runs(self) -> Iterator[tuple[list[Paper], list[int | None]]]:
        """Each run's papers in the order written, with the ``from_lead`` of paper files."""
        runs: dict[str, list[tuple[int, int, int, Paper, int | None]]] = {}
        for root, path in self._files():
            match = RECORD_FILE.match(path.name)
            run, number = (match["run"], int(match["n"])) if match else ("", 0)
            for row, (seq, paper, lead) in enumerate(self._read(root, path)):
                runs.setdefault(run, []).append(
                    (seq if seq is not None else -1, number, row, paper, lead)
                )
        for run in sorted(runs):
            items = sorted(runs[run], key=lambda item: item[:3])
            yield [item[3] for item in items], [item[4] for item in items]

    def _read(self, root: Path, path: Path) -> list[tuple[int | None, Paper, int | None]]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(path)
            table = _with_folder_values(table, path, root)
            papers = from_table(table, path)
        except (OSError, pa.ArrowException, ValueError) as exc:
            raise StoreError(f"{path}: cannot read: {exc}") from exc
        nones = [None] * len(papers)
        # paper files: merged rows, replayed by key (older ones have no from_lead)
        seqs = table.column(LOG_SEQ).to_pylist() if LOG_SEQ in table.column_names else nones
        leads = table.column(FROM_LEAD).to_pylist() if FROM_LEAD in table.column_names else nones
        return list(zip(seqs, papers, leads, strict=True))


def _with_folder_values(table, path: Path, root: Path):
    """A file of harvester 0.2 lacks its partition fields: they are in its folder names."""
    import pyarrow as pa

    for field, value in folder_values(path, root).items():
        if field in ARROW_TYPES and field not in table.column_names:
            typed = (
                dt.date.fromisoformat(value) if value and ARROW_TYPES[field] == "date32" else value
            )
            table = table.append_column(field, pa.array([typed] * table.num_rows))
    return table
