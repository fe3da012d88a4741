"""The `parquet` sink: papers as a Hive-partitioned folder of Parquet files, and its reader.

    [sinks.parquet]
    path = "out/papers"                # the folder
    rows = "records"                   # default: every record a row (a log); "papers": one row
                                       # per paper, merged as the database sinks merge
    partition_by = ["listing_date"]    # default; [] for no partitions; also published, source,
                                       # organization
    mode = "append"                    # default when the run keeps state, else "replace"

Layout (`.layout`): ``<path>/listing_date_partition=2026-03-14/part-<run>-<n>.parquet``; a
paper without a value goes to ``listing_date_partition=__NULL__``. Every file holds every
`Paper` field, typed (dates ``date32``, ``harvested_at`` ``timestamp[us, UTC]``, ``authors``
``list<string>``, counts ``int64``, ``extra`` JSON text; no dictionary columns), and
``harvester.schema_version``/``harvester.schema_id`` in its key-value metadata; the partition
folder is a text copy of the field for pruning. pandas, polars, DuckDB and pyarrow read the
folder as it is (``pandas.read_parquet(path)``), null partitions included.

Record files (``rows = "records"``): every `commit()` writes the records written since the last
one, one file per partition, each complete before it appears (written under ``.<name>.tmp/``
beside the folder, fsynced, then renamed into place), so a reader never sees half a file. Their
``log_seq`` column is each record's place in the order its run wrote them.

Modes (records):

* ``append``: files accumulate across runs; the folder is always readable.
* ``replace``: the run writes into the sibling ``<name>.partial/``; at DONE it takes the place of
  the folder (the old folder is moved to ``<name>.previous/`` and removed after the swap; a crash
  in between is finished at the next open). The folder holds exactly the last complete run's
  records.

Checkpoint (records): ``{"mode", "run", "files", "records"}``: the run's name (in its file names)
and how many files and records it had committed. ``open(resume)`` removes the run's files
numbered from ``files`` on, written after the checkpoint the run state holds. SUSPEND keeps the
committed files; ABANDON drops the uncommitted papers and, in replace mode, the unpublished
``.partial``; committed files of an append run stay, as the JSONL sink keeps its committed lines.

``rows = "papers"``: see `.papers` (one ``papers.parquet`` per partition, rewritten when its
rows change). The folder is read back by `harvester export`, `report` and `history` (`.read`).
"""

from __future__ import annotations

import importlib.util

from harvester.errors import PluginError
from harvester.hookspecs import hookimpl

# pyarrow is 170 MB: an extra, not the default install. Looked up, not imported (0.2 s).
if importlib.util.find_spec("pyarrow") is None:
    raise PluginError("the parquet sink needs pyarrow: pip install 'paper-harvester[parquet]'")

from .layout import ARROW_TYPES, NULL_PARTITION, arrow_schema, to_table
from .read import ParquetStore
from .sink import ParquetSink, ParquetSinkOptions

__all__ = [
    "ARROW_TYPES",
    "NULL_PARTITION",
    "ParquetSink",
    "ParquetSinkOptions",
    "ParquetStore",
    "arrow_schema",
    "to_table",
]


@hookimpl
def register_sinks(register) -> None:
    register(ParquetSink)


@hookimpl
def register_stores(register) -> None:
    register(ParquetStore)
