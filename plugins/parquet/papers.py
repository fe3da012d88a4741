"""``rows = "papers"``: the folder holds one row per paper, merged as the database sinks merge
(`harvester_plugins.store.replay`), in one ``papers.parquet`` per partition.

The run's records are staged crash-safely (`output_files.WholeFileSink`: commits, resume and
suspend as the JSONL sink's) and merged at DONE: with the rows the folder holds (append) or
alone (replace). Then each partition whose rows changed is rewritten whole (written beside the
folder, fsynced, renamed over the old file), a partition left without papers is removed, and
the others are not touched. Between two of those renames a reader may see a paper that moved to
another partition (its listing day changed) in both or in neither; a run killed there is
finished by its resume (publishing again gives the same files).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from harvester_plugins.output_files import WholeFileSink
from harvester_plugins.store.replay import RecordLog, to_paper

from harvester.api import SinkContext
from harvester.errors import SinkError
from harvester.schema import Paper

from .layout import PAPERS_FILE, partition_folder, to_table
from .read import ParquetStore, check_layout
from .sink import ParquetSinkOptions, write_file


class PaperFiles(WholeFileSink):
    """Not registered: the parquet sink hands everything to it in ``rows = "papers"``."""

    name = "parquet"
    options: ParquetSinkOptions

    def __init__(self, options: ParquetSinkOptions, context: SinkContext, *, mode: str):
        super().__init__(options, context)
        self.mode = mode

    def open(self, resume=None) -> None:
        folder = self.context.resolve(self.options.path)
        check_layout(folder, "papers")
        super().open(resume)  # stages in <folder>.papers.jsonl

    def render_merged(self, merged: RecordLog) -> None:
        """The run's records merged onto the rows the folder holds (append) or alone."""
        folder = self.path
        log = merged
        if self.mode == "append" and folder.is_dir() and ParquetStore.claims(str(folder)):
            log = ParquetStore(str(folder)).log  # the rows held, with their from_lead
            run = [row for _, row in sorted(merged.rows.items())]
            log.add([to_paper(row) for row in run], [row["from_lead"] for row in run])
        rows = [(to_paper(row), row["from_lead"]) for _, row in sorted(log.rows.items())]
        tmp = folder.parent / f".{folder.name}.tmp"
        try:
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            self._publish(folder, rows, tmp)
        except OSError as exc:
            raise SinkError(f"{folder}: cannot write the Parquet papers: {exc}") from exc
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _publish(self, folder: Path, papers: list[tuple[Paper, int]], tmp: Path) -> None:
        """Write the merged papers (each with its ``from_lead``), by key, partition by
        partition."""
        import pyarrow.parquet as pq

        groups: dict[tuple[str, ...], list[tuple[Paper, int]]] = {}
        for item in papers:
            groups.setdefault(partition_folder(item[0], self.options.partition_by), []).append(item)
        before = {p.parent: p for p in folder.rglob(PAPERS_FILE)} if folder.is_dir() else {}
        for names, group in sorted(groups.items()):
            target = folder.joinpath(*names) / PAPERS_FILE
            table = to_table([p for p, _ in group], from_lead=[bits for _, bits in group])
            if target.parent in before and pq.read_table(target).equals(table):
                continue  # unchanged: not rewritten
            write_file(table, target, tmp, self.options.compression)
        folder.mkdir(parents=True, exist_ok=True)
        kept = {folder.joinpath(*names) for names in groups}
        for parent, path in before.items():
            if parent not in kept:
                path.unlink()
                _remove_empty(parent, folder)


def _remove_empty(directory: Path, root: Path) -> None:
    while directory != root and directory.is_dir() and not any(directory.iterdir()):
        directory.rmdir()
        directory = directory.parent
