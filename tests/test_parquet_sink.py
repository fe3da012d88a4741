"""The parquet sink through its lifecycle, read back by DuckDB, polars and pyarrow."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import msgspec
import pyarrow.parquet as pq
import pytest
from harvester_plugins.parquet import (
    ARROW_TYPES,
    NULL_PARTITION,
    ParquetSink,
    ParquetSinkOptions,
)

from harvester.api import Outcome, SinkContext
from harvester.errors import SinkError
from harvester.schema import FIELDS, SCHEMA_VERSION, Paper
from tests.paper_factory import numbered, sample_papers


def make_sink(tmp_path: Path, *, incremental: bool = False, **options) -> ParquetSink:
    opts = msgspec.convert({"path": "out/papers", **options}, ParquetSinkOptions)
    return ParquetSink(opts, SinkContext(base_dir=tmp_path, incremental=incremental))


def run_sink(tmp_path: Path, batches: list[list[Paper]], **kw) -> ParquetSink:
    sink = make_sink(tmp_path, **kw)
    sink.open(None)
    for batch in batches:
        sink.write(batch)
        sink.commit()
    sink.close(Outcome.DONE)
    return sink


def duck_rows(folder: Path) -> list[dict]:
    if not any(folder.rglob("*.parquet")):
        return []  # DuckDB refuses a pattern that matches no file
    import duckdb  # here, as polars is below: each xdist worker imports this module to collect

    con = duckdb.connect()
    rel = con.sql(
        f"SELECT * FROM read_parquet('{folder}/**/*.parquet', hive_partitioning = true) "
        "ORDER BY key"
    )
    return [dict(zip(rel.columns, row, strict=True)) for row in rel.fetchall()]


def duck_keys(folder: Path) -> list[str]:
    return [r["key"] for r in duck_rows(folder)]


def test_every_paper_field_has_its_own_arrow_type():
    assert set(ARROW_TYPES) == set(FIELDS)


def test_duckdb_reads_typed_columns_and_null_partitions(tmp_path):
    import duckdb

    papers = sample_papers()
    run_sink(tmp_path, [papers[:2], papers[2:]])
    folder = tmp_path / "out/papers"
    rows = {r["key"]: r for r in duck_rows(folder)}
    assert set(rows) == {p.key for p in papers}
    first = rows["arxiv:2603.01111"]
    assert first["authors"] == ["Zoë Müller-Łukasiewicz", "José Ñúñez", "王小明"]
    assert first["listing_date"] == dt.date(2026, 3, 14)
    assert first["published"] == dt.date(2026, 3, 12)
    assert first["harvested_at"] == dt.datetime(2026, 3, 14, 9, 30, tzinfo=dt.UTC)
    assert json.loads(first["extra"]) == {"arxiv": {"primary_subject": "cs.CV"}}
    assert first["upvotes"] == 19 and first["published_inferred"] is False
    no_date = rows[papers[2].key]
    assert no_date["listing_date"] is None and no_date["published"] is None
    assert rows["arxiv:2603.02222"]["authors"] == []
    assert (folder / f"listing_date_partition={NULL_PARTITION}").is_dir()
    described = duckdb.sql(
        f"DESCRIBE SELECT * FROM read_parquet('{folder}/**/*.parquet', hive_partitioning=true)"
    ).fetchall()
    types = {row[0]: row[1] for row in described}
    assert types["listing_date"] == "DATE" and types["published"] == "DATE"
    assert types["harvested_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["authors"] == "VARCHAR[]" and types["upvotes"] == "BIGINT"


def test_polars_reads_the_folder_unchanged(tmp_path):
    import polars as pl

    papers = sample_papers() + [numbered(n) for n in range(20)]
    run_sink(tmp_path, [papers])
    frame = pl.read_parquet(tmp_path / "out/papers", hive_partitioning=True).sort("key")
    assert frame.height == len(papers)
    assert frame.schema["listing_date"] == pl.Date
    assert frame.schema["authors"] == pl.List(pl.String)
    assert frame.schema["harvested_at"] == pl.Datetime("us", "UTC")
    first = frame.filter(pl.col("key") == "arxiv:2603.01111").row(0, named=True)
    assert first["authors"][2] == "王小明" and first["listing_date"] == dt.date(2026, 3, 14)
    assert frame.filter(pl.col("listing_date").is_null()).height == 1


def test_files_carry_the_schema_version(tmp_path):
    run_sink(tmp_path, [sample_papers()])
    files = sorted((tmp_path / "out/papers").rglob("*.parquet"))
    assert files
    for file in files:
        meta = pq.read_schema(file).metadata
        assert meta[b"harvester.schema_version"] == SCHEMA_VERSION.encode()
        names = pq.read_schema(file).names  # every field, whatever the partitions
        assert names == [*FIELDS, "log_seq"]


def test_other_partitioning_and_none(tmp_path):
    run_sink(tmp_path / "a", [sample_papers()], partition_by=["source", "organization"])
    dirs = {
        p.relative_to(tmp_path / "a/out/papers").as_posix()
        for p in (tmp_path / "a/out/papers").rglob("*")
        if p.is_dir() and "=" in p.name
    }
    assert "source_partition=hf-api/organization_partition=Acme%20Research" in dirs
    assert f"source_partition=textdump/organization_partition={NULL_PARTITION}" in dirs
    rows = duck_rows(tmp_path / "a/out/papers")
    assert {r["organization"] for r in rows} == {"Acme Research", None}
    run_sink(tmp_path / "b", [sample_papers()], partition_by=[])
    flat = tmp_path / "b/out/papers"
    assert all(p.parent == flat for p in flat.rglob("*.parquet"))
    assert len(duck_keys(flat)) == 4


def test_bad_partition_field_is_an_option_error():
    with pytest.raises(msgspec.ValidationError, match="cannot partition"):
        msgspec.convert({"path": "x", "partition_by": ["title"]}, ParquetSinkOptions)


def test_replace_publishes_only_at_done_and_keeps_the_old_folder_otherwise(tmp_path):
    folder = tmp_path / "out/papers"
    run_sink(tmp_path, [[numbered(n) for n in range(5)]])
    before = duck_keys(folder)
    for outcome in (Outcome.ABANDON, Outcome.SUSPEND):
        sink = make_sink(tmp_path)
        sink.open(None)
        sink.write([numbered(n) for n in range(100, 103)])
        sink.commit()
        sink.close(outcome)
        assert duck_keys(folder) == before
    run_sink(tmp_path, [[numbered(n) for n in range(100, 103)]])
    assert duck_keys(folder) == sorted(numbered(n).key for n in range(100, 103))
    assert not (tmp_path / "out/papers.partial").exists()
    assert not (tmp_path / "out/papers.previous").exists()


def test_append_is_the_default_of_incremental_runs_and_accumulates(tmp_path):
    run_sink(tmp_path, [[numbered(n) for n in range(3)]], incremental=True)
    run_sink(tmp_path, [[numbered(n) for n in range(3, 6)]], incremental=True)
    assert duck_keys(tmp_path / "out/papers") == sorted(numbered(n).key for n in range(6))
    assert not (tmp_path / "out/papers.partial").exists()


@pytest.mark.parametrize("mode", ["append", "replace"])
def test_resume_removes_files_written_after_the_checkpoint(tmp_path, mode):
    sink = make_sink(tmp_path, mode=mode)
    sink.open(None)
    sink.write([numbered(n) for n in range(4)])
    checkpoint = json.loads(json.dumps(sink.commit()))  # as the run state stores it
    sink.write([numbered(n) for n in range(4, 8)])
    sink.commit()  # committed, but the run was killed before its state saved this checkpoint
    sink.write([numbered(9)])  # never committed
    del sink  # killed: close() never runs

    resumed = make_sink(tmp_path, mode=mode)
    resumed.open(checkpoint)
    written = resumed.write_dir
    assert duck_keys(written) == sorted(numbered(n).key for n in range(4))
    resumed.write([numbered(n) for n in range(4, 6)])
    resumed.close(Outcome.DONE)
    assert duck_keys(tmp_path / "out/papers") == sorted(numbered(n).key for n in range(6))


def test_resume_after_publish_does_not_write_twice(tmp_path):
    sink = make_sink(tmp_path)
    sink.open(None)
    sink.write([numbered(1)])
    checkpoint = sink.commit()
    sink.close(Outcome.DONE)  # published; the run is killed before clearing its state
    again = make_sink(tmp_path)
    again.open(checkpoint)
    with pytest.raises(SinkError, match="already published"):
        again.write([numbered(2)])
    again.close(Outcome.DONE)
    assert duck_keys(tmp_path / "out/papers") == [numbered(1).key]


def test_a_crash_between_the_two_renames_of_a_publish_is_finished_at_open(tmp_path):
    run_sink(tmp_path, [[numbered(1)]])
    sink = make_sink(tmp_path)
    sink.open(None)
    sink.write([numbered(2)])
    sink.commit()
    # What _publish does up to its crash point: the old folder moved aside, the new not yet in.
    (tmp_path / "out/papers").rename(tmp_path / "out/papers.previous")
    make_sink(tmp_path).open(None)
    assert duck_keys(tmp_path / "out/papers") == [numbered(2).key]
    assert not (tmp_path / "out/papers.previous").exists()


def test_bad_checkpoint_is_a_sink_error(tmp_path):
    sink = make_sink(tmp_path, mode="append")
    with pytest.raises(SinkError, match="cannot resume"):
        sink.open({"mode": "replace", "run": "x", "files": 1})


# -- what every common reader gets back ----------------------------------------------------------


def read_back(folder: Path) -> dict[str, list[dict]]:
    """The folder as pandas, polars, DuckDB and pyarrow read it, as they are called plainly:
    rows (Paper fields only) by key, values as Python objects."""
    import pandas as pd
    import polars as pl
    import pyarrow.dataset as ds

    def rows(records: list[dict]) -> list[dict]:
        return sorted(({f: r[f] for f in FIELDS} for r in records), key=lambda r: r["key"])

    frame = pd.read_parquet(folder)
    pandas_rows = [
        {k: (None if v is pd.NaT or (isinstance(v, float) and v != v) else v) for k, v in r.items()}
        for r in frame.astype(object).to_dict("records")
    ]
    return {
        "pandas": rows(pandas_rows),
        "polars": rows(pl.read_parquet(folder).to_dicts()),
        "duckdb": rows(duck_rows(folder)),
        "pyarrow": rows(ds.dataset(folder, partitioning="hive").to_table().to_pylist()),
    }


def as_rows(papers: list[Paper]) -> list[dict]:
    """What the readers should give: each field's value, `extra` as JSON text."""
    expected = []
    for paper in papers:
        row = {f: getattr(paper, f) for f in FIELDS}
        row["extra"] = json.dumps(paper.extra, ensure_ascii=False, separators=(",", ":"))
        expected.append(row)
    return sorted(expected, key=lambda r: r["key"])


def normalised(row: dict) -> dict:
    """Readers' own spellings of one value: polars/pandas give timestamps, numpy lists."""
    out = dict(row)
    for name in ("listing_date", "published"):
        value = out[name]
        if value is not None and hasattr(value, "date") and callable(value.date):
            out[name] = value.date() if isinstance(value, dt.datetime) else value
    if out["harvested_at"] is not None:
        out["harvested_at"] = (
            out["harvested_at"].to_pydatetime()
            if hasattr(out["harvested_at"], "to_pydatetime")
            else out["harvested_at"]
        )
    out["authors"] = list(out["authors"]) if out["authors"] is not None else None
    out["extra"] = json.loads(out["extra"]) if out["extra"] is not None else None
    return out


@pytest.mark.parametrize("rows", ["records", "papers"])
def test_pandas_polars_duckdb_and_pyarrow_read_the_same_values(tmp_path, rows):
    from tests.papers import tricky_papers

    papers = [*tricky_papers(), *sample_papers(), numbered(7, day=None)]
    run_sink(tmp_path, [papers[:3], papers[3:]], rows=rows)
    expected = [normalised(r) for r in as_rows(papers)]
    for reader, got in read_back(tmp_path / "out/papers").items():
        assert [normalised(r) for r in got] == expected, reader


def test_a_folder_whose_listing_days_are_all_null_reads_in_pandas(tmp_path):
    """The real 2024-05-27 API day has no listing day at all: pandas read_parquet failed
    ('No non-null segments') on Hive partitions that were all null."""
    import pandas as pd

    papers = [numbered(n, day=None) for n in range(5)]
    run_sink(tmp_path, [papers])
    folder = tmp_path / "out/papers"
    assert [p.name for p in folder.iterdir()] == [f"listing_date_partition={NULL_PARTITION}"]
    frame = pd.read_parquet(folder)
    assert len(frame) == 5 and frame["listing_date"].isna().all()
    assert str(pq.read_schema(next(folder.rglob("*.parquet"))).field("listing_date").type) == (
        "date32[day]"
    )


def test_files_have_no_dictionary_columns(tmp_path):
    run_sink(tmp_path, [sample_papers()], rows="records")
    for file in (tmp_path / "out/papers").rglob("*.parquet"):
        types = [str(field.type) for field in pq.read_schema(file)]
        assert not any("dictionary" in t for t in types), types


# -- rows = "papers" --------------------------------------------------------------------------


def test_papers_rows_are_one_per_paper_merged_and_rewritten_per_partition(tmp_path):
    first = [numbered(n) for n in range(8)]  # four listing days
    run_sink(tmp_path, [first[:4], first[4:]], rows="papers", incremental=True)
    folder = tmp_path / "out/papers"
    files = {p.parent.name: p for p in folder.rglob("papers.parquet")}
    assert len(files) == 4 and len(duck_keys(folder)) == 8
    untouched = files["listing_date_partition=2026-03-03"].stat()
    # A later run: paper 0 seen again on another day with more upvotes, a new paper 9.
    moved = msgspec.structs.replace(numbered(0), listing_date=dt.date(2026, 3, 2), upvotes=50)
    run_sink(tmp_path, [[moved, numbered(9)]], rows="papers", incremental=True)
    rows = {r["key"]: r for r in duck_rows(folder)}
    assert len(rows) == 9  # one row per paper, never two
    assert rows[numbered(0).key]["upvotes"] == 50
    assert rows[numbered(0).key]["listing_date"] == dt.date(2026, 3, 2)
    after = folder / "listing_date_partition=2026-03-03/papers.parquet"
    assert after.stat().st_ino == untouched.st_ino  # a partition that did not change stays
    assert not list(tmp_path.glob("out/papers.papers.jsonl*"))  # staging gone after publish


def test_papers_rows_merge_a_dump_into_its_listing(tmp_path):
    from tests.store_cases import dump_record, listing_record

    run_sink(tmp_path, [[dump_record()], [listing_record("2501.00001")]], rows="papers")
    (row,) = duck_rows(tmp_path / "out/papers")
    assert row["key"] == "arxiv:2501.00001" and row["organization"] == "Dump Org"


def test_papers_rows_keep_which_fields_came_from_their_leader_across_runs(tmp_path):
    """A row whose abstract is HF's though its latest sighting is arXiv's (the listing had none):
    the next run's HF record still replaces it, as in a database (`from_lead` in the file)."""
    from harvester_plugins.parquet.layout import FROM_LEAD
    from harvester_plugins.store.rules import LEAD_BITS

    from tests.store_cases import arxiv_record, hf_record
    from tests.test_sqlite_sink import read_papers
    from tests.test_sqlite_sink import run as sqlite_run

    runs = [
        [hf_record(1, abstract="HF's first summary.")],
        [arxiv_record(1, version=1, abstract=None)],
        [
            hf_record(
                1,
                abstract="HF's second summary.",
                harvested_at=arxiv_record(1, version=1).harvested_at,
            )
        ],
    ]
    for batch in runs:
        run_sink(tmp_path, [batch], rows="papers", incremental=True)
        sqlite_run(tmp_path, batch)
    (row,) = duck_rows(tmp_path / "out/papers")
    (stored,) = read_papers(tmp_path / "papers.db")
    assert row["abstract"] == stored.abstract == "HF's second summary."
    assert row["authors"] == stored.authors == ["A. Arxiv", "B. Arxiv"]
    assert not row[FROM_LEAD] & LEAD_BITS["abstract"] and row[FROM_LEAD] & LEAD_BITS["authors"]


def test_records_and_papers_never_share_a_folder(tmp_path):
    run_sink(tmp_path, [[numbered(1)]], incremental=True)
    with pytest.raises(SinkError, match='rows = "papers"'):
        run_sink(tmp_path, [[numbered(2)]], rows="papers", incremental=True)


def test_a_folder_of_harvester_0_2_is_read_and_never_appended_to(tmp_path):
    """0.2 wrote `listing_date=<day>/` folders with the field only in the folder name."""
    from harvester_plugins.parquet import ParquetStore, to_table

    papers = [numbered(1), numbered(2, day=None)]
    folder = tmp_path / "out/papers"
    names = [papers[0].listing_date.isoformat(), "__HIVE_DEFAULT_PARTITION__"]
    for paper, name in zip(papers, names, strict=True):
        part = folder / f"listing_date={name}"
        part.mkdir(parents=True)
        table = to_table([paper]).drop_columns(["listing_date"])
        pq.write_table(table, part / "part-20260314T093000Z-abcdef-000000.parquet")
    with ParquetStore(str(folder)) as store:
        assert store.papers() == sorted(papers, key=lambda p: p.key)
    with pytest.raises(SinkError, match="older layout"):
        run_sink(tmp_path, [[numbered(3)]], incremental=True)
