"""The baselines each stage is compared with, measured in the same run on the same inputs.

* `read_split_floor`: read a file and split it into lines, nothing else (the text-dump floor).
* `bs4_json` / `bs4_cards`: BeautifulSoup + lxml doing the hf-papers extraction (embedded JSON,
  rendered cards), the way a user without the plugin would write it.
* `bare_jsonl` / `bare_sqlite`: the sinks' writes done by a plain loop (msgspec encode-and-write;
  executemany into the same tables, FTS index filled per batch).
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


def read_split_floor(path: Path) -> int:
    """Lines in `path`, read as text and split: the least any line-based parser must do."""
    lines = 0
    with open(path, encoding="utf-8") as f:
        while block := f.read(1 << 22):
            lines += len(block.split("\n"))
    return lines


# --- HTML: BeautifulSoup + lxml -------------------------------------------------------------


def bs4_json(content: bytes) -> list[dict[str, Any]]:
    """Papers from the page's embedded DailyPapers JSON, found with BeautifulSoup."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(content, "lxml")
    holder = soup.find(attrs={"data-target": "DailyPapers"})
    props = json.loads(holder["data-props"])
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


def bs4_cards(content: bytes) -> list[dict[str, Any]]:
    """Papers from the rendered `article` cards (desktop block), found with BeautifulSoup."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(content, "lxml")
    papers, seen = [], set()
    for article in soup.find_all("article"):
        link = article.select_one('h3 a[href^="/papers/"]')
        if link is None:
            continue
        pid = link["href"].rsplit("/", 1)[-1]
        if pid in seen:
            continue
        seen.add(pid)
        block = article.find("div")
        names = [li["title"] for li in block.select("li[title]")][::-1]
        count = published = None
        for span in block.find_all("span"):
            text = span.get_text(strip=True)
            if count is None and (m := _AUTHORS.match(text)):
                count = int(m[1])
            elif published is None and (m := _DATE.match(text)):
                published = dt.date(int(m[3] or 2026), _MONTHS.index(m[1]) + 1, int(m[2]))
        org = block.select_one("a span.truncate")
        upvote = block.select_one(".text-orange-500")
        comments = block.select_one('a[href$="#community"]')
        summary = block.find("p")
        by = None
        for badge in block.select("div.absolute"):
            text = badge.get_text(" ", strip=True)
            if text.startswith("Submitted by"):
                by = text.removeprefix("Submitted by").strip()
        papers.append(
            {
                "arxiv_id": pid,
                "title": " ".join(link.get_text().split()),
                "abstract": " ".join(summary.get_text().split()) if summary else None,
                "authors": names,
                "author_count": count,
                "published": published,
                "upvotes": _int(upvote.get_text(strip=True)) if upvote else None,
                "comments": _int(comments.get_text(strip=True)) if comments else 0,
                "organization": org.get_text(strip=True) if org else None,
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
    from harvester_plugins.store.rules import iso_utc

    from harvester.normalise import title_key
    from harvester.schema import FIELDS

    to_builtins, encode = msgspec.to_builtins, msgspec.json.encode
    a_i, e_i = FIELDS.index("authors"), FIELDS.index("extra")
    rows, sightings, points = [], [], []
    for paper in batch:
        data = to_builtins(paper)
        row = [data[f] for f in FIELDS]
        row[a_i], row[e_i] = encode(row[a_i]).decode(), encode(row[e_i]).decode()
        seen = iso_utc(paper.harvested_at)
        day = data["listing_date"]
        row += [title_key(paper.title), day, day, None, now, now]
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
    observe = "INSERT OR IGNORE INTO observations VALUES (?, ?, ?, ?, ?, NULL)"

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


def bare_postgres(url: str, batches: Iterable[list], commit_every: int, timer) -> int:
    """Plain COPY-and-merge into the postgres sink's own tables: each batch COPYed into a
    temporary table, then one INSERT ... ON CONFLICT DO UPDATE (every column from the new row),
    its sightings and its observations; no merge rules, no title matching."""
    import msgspec
    import psycopg
    from harvester_plugins.postgres.merge import STAGE
    from harvester_plugins.postgres.schema import create_statements
    from harvester_plugins.store.rules import COLUMNS, iso_utc

    from harvester.normalise import title_key
    from harvester.schema import FIELDS

    con = psycopg.connect(url)
    for stmt in create_statements("english"):
        con.execute(stmt)
    con.execute(STAGE)
    con.commit()
    cols = ", ".join(COLUMNS)
    upsert = (
        f"INSERT INTO papers ({cols}) SELECT {cols} FROM stage ON CONFLICT (key) DO UPDATE SET "
        + ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c not in ("key", "first_seen"))
    )
    to_builtins, encode = msgspec.to_builtins, msgspec.json.encode
    now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    a_i, e_i = FIELDS.index("authors"), FIELDS.index("extra")
    written = 0
    for n, batch in enumerate(batches, 1):
        with timer:
            con.execute("TRUNCATE stage")
            with con.cursor() as cur, cur.copy(f"COPY stage ({cols}) FROM STDIN") as copy:
                for paper in batch:
                    data = to_builtins(paper)
                    row = [data[f] for f in FIELDS]
                    row[a_i], row[e_i] = encode(row[a_i]).decode(), encode(row[e_i]).decode()
                    row[FIELDS.index("harvested_at")] = iso_utc(paper.harvested_at)
                    day = data["listing_date"]
                    copy.write_row([*row, title_key(paper.title), day, day, None, now, now])
            con.execute(upsert)
            con.execute(
                "INSERT INTO sightings SELECT key, source, source_ref, listing_date, "
                "harvested_at, harvested_at FROM stage ON CONFLICT DO NOTHING"
            )
            con.execute(
                "INSERT INTO observations SELECT key, source, harvested_at, upvotes, comments "
                "FROM stage ON CONFLICT DO NOTHING"
            )
            if n % commit_every == 0:
                con.commit()
        written += len(batch)
    with timer:
        con.commit()
        con.close()
    return written
