"""How `harvester check` reads back what each built-in sink wrote: the `read_back` of their
`check = SinkCheck(...)` declarations. Each returns the output's records as dicts (with `key`
and `title`), [] when nothing was written yet. Readers import their library when they run."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec

from harvester.normalise import title_key

Rows = list[dict[str, Any]]
PAPER_PREFIX = "urn:harvester:paper:"


def read_jsonl(directory: Path, options: dict[str, Any]) -> Rows:
    path = directory / options["path"]
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def read_sqlite(directory: Path, options: dict[str, Any]) -> Rows:
    from .sqlite.read import SqliteStore

    path = directory / options["path"]
    if not path.exists():
        return []
    with SqliteStore(str(path)) as store:  # the papers table, as `harvester export` reads it
        return [msgspec.to_builtins(p) for p in store.papers()]


def read_postgres(directory: Path, options: dict[str, Any]) -> Rows:
    import psycopg

    from .postgres.read import PostgresStore

    with psycopg.connect(options["url"]) as con:
        if con.execute("SELECT to_regclass('papers')").fetchone() == (None,):
            return []  # nothing written yet
    with PostgresStore(options["url"]) as store:
        return [msgspec.to_builtins(p) for p in store.papers()]


@contextlib.contextmanager
def fresh_postgres(options: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """A database of its own on the server `options["url"]` names, dropped after: the check
    never writes into a database that exists (it needs the CREATEDB privilege)."""
    import psycopg
    from psycopg.conninfo import make_conninfo

    name = f"harvester_check_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(options["url"], autocommit=True) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_conninfo(options["url"], dbname=name)
        yield {**options, "url": url}
    finally:
        with psycopg.connect(options["url"], autocommit=True) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def read_parquet(directory: Path, options: dict[str, Any]) -> Rows:
    """The rows of every file the sink wrote, as written (each file alone, with its own
    schema; `log_seq`, the order within a run, left out)."""
    import pyarrow.parquet as pq

    from .parquet.layout import LOG_SEQ
    from .parquet.read import parquet_files

    folder = directory / options["path"]
    if not folder.exists():
        return []
    rows = [row for path in parquet_files(folder) for row in pq.read_table(path).to_pylist()]
    for row in rows:
        row.pop(LOG_SEQ, None)
        row["extra"] = json.loads(row["extra"]) if row.get("extra") else row.get("extra")
    return sorted(rows, key=lambda r: r["key"])


def _key(eprint: str | None, title: str) -> str:
    """A paper's key from what a bibliography shows: its arXiv id, else its title."""
    return f"arxiv:{eprint}" if eprint else title_key(title)


def read_csl_json(directory: Path, options: dict[str, Any]) -> Rows:
    path = directory / options["path"]
    if not path.exists():
        return []
    items = json.loads(path.read_text(encoding="utf-8"))
    for item in items:
        item["key"] = _key((item.get("number") or "").removeprefix("arXiv:") or None, item["title"])
    return items


def read_bibtex(directory: Path, options: dict[str, Any]) -> Rows:
    import bibtexparser
    from bibtexparser.middlewares import LatexDecodingMiddleware

    path = directory / options["path"]
    if not path.exists():
        return []
    library = bibtexparser.parse_string(
        path.read_text(encoding="utf-8"), append_middleware=[LatexDecodingMiddleware()]
    )
    rows = []
    for entry in library.entries:
        row: dict[str, Any] = {f.key: f.value for f in entry.fields}
        row["entry_type"], row["citation_key"] = entry.entry_type, entry.key
        row["key"] = _key(row.get("eprint"), row["title"])
        rows.append(row)
    return rows


def read_ris(directory: Path, options: dict[str, Any]) -> Rows:
    import rispy

    path = directory / options["path"]
    if not path.exists():
        return []
    rows = []
    for record in rispy.loads(path.read_text(encoding="utf-8")):
        urls = record.get("urls", [])
        eprint = next((u.rsplit("/", 1)[-1] for u in urls if "arxiv.org/abs/" in u), None)
        rows.append({**record, "key": _key(eprint, record["title"])})
    return rows


def read_feed(directory: Path, options: dict[str, Any]) -> Rows:
    import dataclasses

    from .feed.formats import READ

    path = directory / options["path"]
    if not path.exists():
        return []
    entries = READ[options.get("format", "atom")](path.read_bytes())
    return [{**dataclasses.asdict(e), "key": e.id.removeprefix(PAPER_PREFIX)} for e in entries]
