"""The baselines each stage is compared with, measured in the same run on the same inputs.

* `msgspec_floor`: read the records a path wrote (JSONL), decode them into `Paper`s and encode
  and write them again with msgspec: the least any path that reads and writes those records
  can do (the text-dump floor).
* `selectolax_json` / `selectolax_cards`: a minimal selectolax (lexbor) loop doing the
  hf-papers extraction (embedded JSON, rendered cards): the whole page parsed, the same fields.
* `bare_jsonl` / `bare_sqlite`: the sinks' writes done by a plain loop (msgspec encode-and-write;
  executemany into the same tables, FTS index filled per commit).
* `sqlite_utils_load`: what a user without the sink would do: `sqlite-utils` upsert of the
  records, then `enable-fts` on title and abstract.
* `plain_copy`: the postgres sink's rows COPYed straight into its tables (papers, sightings,
  observations) of a fresh database: no staging, no merge.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def msgspec_floor(records: Path, out: Path) -> int:
    """Read `records` (JSONL), decode every line into a `Paper`, encode them all and write them
    to `out`: the records written, the text-dump floor."""
    import msgspec

    from harvester.schema import Paper

    papers = msgspec.json.Decoder(Paper).decode_lines(records.read_bytes())
    with open(out, "wb") as f:
        f.write(msgspec.json.Encoder().encode_lines(papers))
    return len(papers)


# --- HTML: a minimal selectolax loop ----------------------------------------------------------


def selectolax_json(content: bytes) -> list[dict[str, Any]]:
    """Papers from the page's embedded DailyPapers JSON: the page parsed, the holder found."""
    from selectolax.lexbor import LexborHTMLParser

    holder = LexborHTMLParser(content).css_first('[data-target="DailyPapers"]')
    props = json.loads(holder.attrs["data-props"])
    papers = []
    for item in props["dailyPapers"]:
        p = item["paper"]
        org = item.get("organization") or {}
        by = item.get("submittedBy") or {}
        papers.append(
            {
                "arxiv_id": p["id"],
                "title": " ".join(item["title"].split()),
                "abstract": " ".join(item["summary"].split()),
                "authors": [a["name"] for a in p["authors"]],
                "author_count": len(p["authors"]),
                "published": dt.date.fromisoformat(p["publishedAt"][:10]),
                "upvotes": p.get("upvotes"),
                "comments": item.get("numComments"),
                "organization": org.get("fullname"),
                "submitted_by": by.get("fullname"),
                "url": f"https://huggingface.co/papers/{p['id']}",
            }
        )
    return papers


_AUTHORS = re.compile(r"(\d+)\s+authors?$")
_DATE = re.compile(r"^(?:Published on )?([A-Z][a-z]{2}) (\d{1,2})(?:, (\d{4}))?$")
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def selectolax_cards(content: bytes) -> list[dict[str, Any]]:
    """Papers from the rendered `article` cards (desktop block): the page parsed, each card's
    fields found with CSS selectors."""
    from selectolax.lexbor import LexborHTMLParser

    papers, seen = [], set()
    for article in LexborHTMLParser(content).css("article"):
        link = article.css_first('h3 a[href^="/papers/"]')
        if link is None:
            continue
        pid = link.attrs["href"].rsplit("/", 1)[-1]
        if pid in seen:
            continue
        seen.add(pid)
        block = article.css_first("div")
        names = [li.attrs["title"] for li in block.css("li[title]")][::-1]
        count = published = None
        for span in block.css("span"):
            text = span.text(strip=True)
            if count is None and (m := _AUTHORS.match(text)):
                count = int(m[1])
            elif published is None and (m := _DATE.match(text)):
                published = dt.date(int(m[3] or 2026), _MONTHS.index(m[1]) + 1, int(m[2]))
        org = block.css_first("a span.truncate")
        upvote = block.css_first(".text-orange-500")
        comments = block.css_first('a[href$="#community"]')
        summary = block.css_first("p")
        by = None
        for badge in block.css("div.absolute"):
            text = " ".join(badge.text(separator=" ").split())
            if text.startswith("Submitted by"):
                by = text.removeprefix("Submitted by").strip()
        papers.append(
            {
                "arxiv_id": pid,
                "title": " ".join(link.text().split()),
                "abstract": " ".join(summary.text().split()) if summary else None,
                "authors": names,
                "author_count": count,
                "published": published,
                "upvotes": _int(upvote.text(strip=True)) if upvote else None,
                "comments": _int(comments.text(strip=True)) if comments else 0,
                "organization": org.text(strip=True) if org else None,
                "submitted_by": by,
                "url": f"https://huggingface.co/papers/{pid}",
            }
        )
    return papers


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None


# --- sinks ----------------------------------------------------------------------------------


def bare_jsonl(path: Path, batches: Iterable[list], commit_every: int, timer) -> int:
    """msgspec encode-and-write, fsync at the same checkpoints as the sink; returns records."""
    import msgspec

    encode_lines = msgspec.json.Encoder().encode_lines
    written = 0
    with open(path, "wb", buffering=1 << 20) as f:
        for n, batch in enumerate(batches, 1):
            with timer:
                f.write(encode_lines(batch))
                if n % commit_every == 0:
                    f.flush()
                    os.fsync(f.fileno())
            written += len(batch)
        with timer:
            f.flush()
            os.fsync(f.fileno())
    return written


def _bare_sqlite_db(path: Path, fts: str) -> sqlite3.Connection:
    """The sqlite sink's tables with its pragmas, and its FTS index unless `fts` is "off"."""
    from harvester_plugins.sqlite.schema import CREATE

    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA cache_size = -65536")
    for stmt in CREATE:
        db.execute(stmt)
    if fts != "off":
        db.execute(
            "CREATE VIRTUAL TABLE papers_fts USING fts5(title, abstract, content='papers', "
            f"content_rowid='id', detail={fts})"
        )
    return db


def _bare_sqlite_rows(batch: list, now: str) -> tuple[list, list, list]:
    """A batch as rows of papers, sightings and observations, with no rule applied."""
    import msgspec
    from harvester_plugins.store.rules import COLUMNS, JSON_COLUMNS, iso_utc, lead_bits
    from harvester_plugins.store.rules import STORED_FIELDS as FIELDS

    from harvester.normalise import title_key

    to_builtins, encode = msgspec.to_builtins, msgspec.json.encode
    as_json = [i for i, f in enumerate(FIELDS) if f in JSON_COLUMNS]
    derived = COLUMNS[len(FIELDS) :]
    assert derived[0] == "title_key" and derived[-1] == "from_lead", derived  # the sink's layout
    rows, sightings, points = [], [], []
    for paper in batch:
        data = to_builtins(paper)
        row = [data[f] for f in FIELDS]
        for i in as_json:
            row[i] = encode(row[i]).decode()
        seen = iso_utc(paper.harvested_at)
        day = data["listing_date"]
        row += [title_key(paper.title), day, day, None, now, now, lead_bits(row, paper.source)]
        rows.append(row)
        sightings.append((paper.key, paper.source, paper.source_ref, day, seen))
        points.append((paper.key, paper.source, seen, paper.upvotes, paper.comments))
    return rows, sightings, points


def bare_sqlite(
    path: Path, batches: Iterable[list], commit_every: int, timer, fts: str = "full"
) -> int:
    """Plain executemany writes into the sqlite sink's own tables (papers, sightings,
    observations) and its FTS index: no merge rules, no title matching, no change detection.
    FTS is kept by one bulk insert per commit, as the sink does (the fastest plain way: per-row
    triggers are ~3x slower, per batch ~2x), so the baseline is as strong as it can simply be."""
    from harvester_plugins.store.rules import COLUMNS

    db = _bare_sqlite_db(path, fts)
    cols = ", ".join(COLUMNS)
    upsert = (
        f"INSERT INTO papers ({cols}) VALUES ({', '.join('?' * len(COLUMNS))}) "
        "ON CONFLICT (key) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c not in ("key", "first_seen"))
    )
    sighting = "INSERT OR IGNORE INTO sightings VALUES (?1, ?2, ?3, ?4, ?5, ?5)"
    observe = (
        "INSERT OR IGNORE INTO observations (key, source, observed_at, upvotes, comments) "
        "VALUES (?, ?, ?, ?, ?)"
    )

    def index_and_commit(before: int) -> None:
        if fts != "off":
            db.execute(
                "INSERT INTO papers_fts (rowid, title, abstract) "
                "SELECT id, title, abstract FROM papers WHERE id > ?",
                (before,),
            )
        db.execute("COMMIT")

    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    written = 0
    for n, batch in enumerate(batches, 1):
        with timer:
            rows, sightings, points = _bare_sqlite_rows(batch, now)
            if not db.in_transaction:
                db.execute("BEGIN IMMEDIATE")
                before = db.execute("SELECT coalesce(max(id), 0) FROM papers").fetchone()[0]
            db.executemany(upsert, rows)
            db.executemany(sighting, sightings)
            db.executemany(observe, points)
            if n % commit_every == 0:
                index_and_commit(before)
        written += len(batch)
    with timer:
        if db.in_transaction:
            index_and_commit(before)
        db.close()
    return written


def sqlite_utils_load(path: Path, batches: Iterable[list], timer, fts: bool = True) -> int:
    """`sqlite-utils` as a user would load the records: `upsert_all` of each batch (their
    builtins, pk `key`, authors and extra as JSON), one transaction per 50 batches as the sink
    commits, then `enable_fts` on title and abstract (FTS5, no triggers)."""
    import msgspec
    import sqlite_utils

    db = sqlite_utils.Database(path)
    db.conn.execute("PRAGMA journal_mode = WAL")
    table = db["papers"]
    written = 0
    to_builtins = msgspec.to_builtins
    for n, batch in enumerate(batches, 1):
        with timer:
            if not db.conn.in_transaction:
                db.conn.execute("BEGIN")
            table.upsert_all((to_builtins(p) for p in batch), pk="key", batch_size=len(batch))
            if n % 50 == 0:
                db.conn.execute("COMMIT")
        written += len(batch)
    with timer:
        if db.conn.in_transaction:
            db.conn.execute("COMMIT")
        if fts:
            table.enable_fts(["title", "abstract"], fts_version="FTS5")
        db.conn.close()
    return written


def plain_copy(url: str, batches: Iterable[list], commit_every: int, timer) -> int:
    """The postgres sink's rows (`RowBuilder`, as the sink builds them) COPYed straight into
    papers, sightings and observations of a fresh database (its search column and GIN index
    filled by PostgreSQL as for the sink), a commit every `commit_every` batches."""
    import psycopg
    from harvester_plugins.postgres.schema import create_statements
    from harvester_plugins.store.metrics import github_stars
    from harvester_plugins.store.rules import AT, COLUMNS, RowBuilder, now_utc

    con = psycopg.connect(url)
    for stmt in create_statements("english"):
        con.execute(stmt)
    con.commit()
    rows_of, cols = RowBuilder(), ", ".join(COLUMNS)
    at = [AT[c] for c in ("key", "source", "source_ref", "listing_date", "harvested_at")]
    key, source, seen, ups, comments = (
        AT[c] for c in ("key", "source", "harvested_at", "upvotes", "comments")
    )
    written = 0
    for n, batch in enumerate(batches, 1):
        with timer:
            now = now_utc()
            rows = [rows_of.row(p, now) for p in batch]
            with con.cursor() as cur:
                with cur.copy(f"COPY papers ({cols}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                with cur.copy("COPY sightings FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row([*(row[i] for i in at), row[at[-1]]])
                points = "key, source, observed_at, upvotes, comments, github_stars"
                with cur.copy(f"COPY observations ({points}) FROM STDIN") as copy:
                    for paper, row in zip(batch, rows, strict=True):
                        copy.write_row(
                            (row[key], row[source], row[seen], row[ups], row[comments],
                             github_stars(paper))
                        )  # fmt: skip
            if n % commit_every == 0:
                con.commit()
        written += len(batch)
    with timer:
        con.commit()
        con.close()
    return written
