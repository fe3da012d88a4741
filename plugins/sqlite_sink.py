"""The `sqlite` sink: papers upserted into an embedded SQLite database, with full-text search.

Layout (database schema 1.0, recorded as ``PRAGMA user_version = 1`` and in table ``meta``):

* ``papers``: one column per `Paper` field (``authors``/``extra`` as JSON text, dates ISO text,
  booleans 0/1); ``key`` is UNIQUE and is what upserts match on; ``id INTEGER PRIMARY KEY`` is
  the stable rowid the FTS index refers to (a plain rowid may be renumbered by VACUUM);
  ``title_key`` (`harvester.normalise.title_key` of the title, indexed); ``first_seen`` and
  ``last_seen`` (UTC, when the row was first and last written).
* ``papers_fts``: FTS5 over ``title`` and ``abstract`` (external content = ``papers``), kept
  consistent by triggers on insert, delete and a change of title or abstract.

Upsert and merge rules (re-running a harvest never duplicates a paper):

1. A record is upserted by ``key``. A newer record's non-null values replace older ones; nulls
   never erase known values (COALESCE). An empty ``authors`` list counts as unknown; ``extra``
   dicts are merged key by key (JSON merge patch, newer wins); ``published_inferred`` follows
   the ``published`` value it belongs to.
2. A record WITH an arXiv id absorbs rows of the same ``title_key`` that have NO arXiv id
   (a paper first seen in a text dump, then on a listing): the title-keyed row is re-keyed to
   the arXiv key, or, if the arXiv row exists already, its values fill the arXiv row's gaps and
   it is deleted. Not when a row with ANOTHER arXiv id shares that title_key: which paper the
   title row belongs to is then ambiguous, so it stays as it is.
3. A record WITHOUT an arXiv id whose ``title_key`` matches exactly one row that has an arXiv id
   merges into that row. With two or more such rows it is ambiguous and stays a row of its own.
4. Two rows with different arXiv ids are never merged (same title, different papers).

Transactions: ``write`` runs inside one transaction that ``commit()`` commits (never a commit per
row); ``close(ok=False)`` rolls the open transaction back, so earlier commits stay. WAL mode,
``synchronous=NORMAL``.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence
from typing import Any

import msgspec

from harvester.api import Sink, SinkOptions
from harvester.errors import SinkError
from harvester.hookspecs import hookimpl
from harvester.normalise import arxiv_key, title_key
from harvester.schema import FIELDS, Paper

DB_SCHEMA_MAJOR = 1
DB_SCHEMA_VERSION = "1.0"

JSON_COLUMNS = ("authors", "extra")
BOOL_COLUMNS = ("published_inferred",)
# Columns the upsert writes: the Paper fields, then the ones the sink derives.
COLUMNS: tuple[str, ...] = (*FIELDS, "title_key", "first_seen", "last_seen")

_SQL_TYPES = {
    "author_count": "INTEGER",
    "upvotes": "INTEGER",
    "comments": "INTEGER",
    "published_inferred": "INTEGER NOT NULL DEFAULT 0",
}

# FTS upkeep. Feeding FTS5 row by row from an insert trigger is ~3x slower than one
# INSERT ... SELECT per batch, so the sink defers indexing of the rows a batch inserts: while it
# runs `executemany`, meta row `fts_deferred_above` holds the highest id before the batch; the
# triggers leave rows above it alone and the sink indexes them in bulk right after. Anyone else
# writing the table (no meta row) gets immediate indexing from the same triggers.
_DEFERRED = "(SELECT value FROM meta WHERE name = 'fts_deferred_above')"
_FTS_ADD = (
    "INSERT INTO papers_fts (rowid, title, abstract) VALUES (new.id, new.title, new.abstract)"
)
_FTS_DEL = (
    "INSERT INTO papers_fts (papers_fts, rowid, title, abstract) "
    "VALUES ('delete', old.id, old.title, old.abstract)"
)
_TRIGGERS = {
    "papers_fts_ai": f"AFTER INSERT ON papers WHEN {_DEFERRED} IS NULL BEGIN {_FTS_ADD}; END",
    "papers_fts_ad": (
        f"AFTER DELETE ON papers WHEN old.id <= coalesce({_DEFERRED}, old.id) BEGIN {_FTS_DEL}; END"
    ),
    # Only a real change re-indexes: re-running a harvest costs no FTS work.
    "papers_fts_au": (
        "AFTER UPDATE OF title, abstract ON papers "
        "WHEN (old.title IS NOT new.title OR old.abstract IS NOT new.abstract) "
        f"AND old.id <= coalesce({_DEFERRED}, old.id) BEGIN {_FTS_DEL}; {_FTS_ADD}; END"
    ),
}

_CREATE = [
    "CREATE TABLE meta (name TEXT PRIMARY KEY, value NOT NULL)",
    "CREATE TABLE papers (id INTEGER PRIMARY KEY, "
    + ", ".join(
        f"{c} TEXT NOT NULL UNIQUE" if c == "key" else f"{c} {_SQL_TYPES.get(c, 'TEXT')}"
        for c in COLUMNS
    )
    + ")",
    "CREATE INDEX papers_title_key ON papers (title_key)",
    "CREATE INDEX papers_arxiv_id ON papers (arxiv_id)",
    "CREATE VIRTUAL TABLE papers_fts USING fts5("
    "title, abstract, content=\"papers\", content_rowid='id')",
    *(f"CREATE TRIGGER {name} {body}" for name, body in _TRIGGERS.items()),
]


def _merge_expr(col: str) -> str:
    """SET expression of the upsert: how a newer record's value combines with the stored one."""
    new, old = f"excluded.{col}", f"papers.{col}"
    if col in ("key", "first_seen", "id"):
        return old
    if col == "authors":
        return f"CASE WHEN {new} IS NULL OR {new} = '[]' THEN {old} ELSE {new} END"
    if col == "extra":
        return (
            f"CASE WHEN {new} IS NULL OR {new} = '{{}}' THEN {old} "
            f"WHEN {old} IS NULL OR {old} = '{{}}' THEN {new} "
            f"ELSE json_patch({old}, {new}) END"
        )
    if col == "published_inferred":
        return f"CASE WHEN excluded.published IS NULL THEN {old} ELSE {new} END"
    return f"COALESCE({new}, {old})"


UPSERT = (
    f"INSERT INTO papers ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
    "ON CONFLICT (key) DO UPDATE SET "
    + ", ".join(f"{c} = {_merge_expr(c)}" for c in COLUMNS if c not in ("key", "first_seen"))
)

# Columns an absorbed title row never fills in (identity, or handled on their own).
_NOT_FILLED = (
    "key",
    "arxiv_id",
    "title",
    "title_key",
    "first_seen",
    "last_seen",
    "published_inferred",
)
_KEY_AT = COLUMNS.index("key")
_ARXIV_AT = COLUMNS.index("arxiv_id")
_TITLE_KEY_AT = COLUMNS.index("title_key")


class SqliteSinkOptions(SinkOptions, kw_only=True, forbid_unknown_fields=True):
    path: str
    fts: bool = True  # keep papers_fts up to date (false: skip the FTS triggers' cost)


class SqliteSink(Sink):
    name = "sqlite"
    Options = SqliteSinkOptions

    options: SqliteSinkOptions
    db: sqlite3.Connection | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def open(self, resume: Any = None) -> None:
        """`resume` is ignored: commits are durable and upserts idempotent, so an interrupted
        run simply goes on (its uncommitted transaction was rolled back)."""
        self.path = self.context.resolve(self.options.path)
        self._json = msgspec.json.Encoder()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, isolation_level=None)  # we BEGIN/COMMIT
            self.db.execute("PRAGMA journal_mode = WAL")
            self.db.execute("PRAGMA synchronous = NORMAL")
            self.db.execute("PRAGMA cache_size = -65536")  # 64 MiB: the FTS merges like it
            self._ensure_schema()
            self._set_fts_triggers(self.options.fts)
        except (sqlite3.Error, OSError) as exc:
            self._disconnect()
            raise SinkError(f"{self.path}: cannot open the SQLite database: {exc}") from exc

    def write(self, papers: Sequence[Paper]) -> None:
        db = self._db()
        try:
            if not db.in_transaction:
                db.execute("BEGIN IMMEDIATE")
            self._write_batch(db, papers)
        except sqlite3.Error as exc:
            raise SinkError(f"{self.path}: cannot write: {exc}") from exc

    def commit(self) -> None:
        db = self._db()
        try:
            if db.in_transaction:
                db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise SinkError(f"{self.path}: cannot commit: {exc}") from exc

    def close(self, ok: bool = True) -> None:
        if self.db is None:
            return
        try:
            if ok:
                self.commit()
                self.db.execute("PRAGMA optimize")
            elif self.db.in_transaction:
                self.db.execute("ROLLBACK")
        except sqlite3.Error as exc:
            raise SinkError(f"{self.path}: cannot close: {exc}") from exc
        finally:
            self._disconnect()

    # -- schema ------------------------------------------------------------------------------

    def _ensure_schema(self) -> None:
        db = self._db()
        version = db.execute("PRAGMA user_version").fetchone()[0]
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if version == 0 and not tables:
            db.execute("BEGIN IMMEDIATE")
            for stmt in _CREATE:
                db.execute(stmt)
            db.executemany(
                "INSERT INTO meta (name, value) VALUES (?, ?)",
                [("schema_version", DB_SCHEMA_VERSION), ("created_at", _now())],
            )
            db.execute(f"PRAGMA user_version = {DB_SCHEMA_MAJOR}")
            db.execute("COMMIT")
            return
        if version == 0:
            raise SinkError(
                f"{self.path}: not a harvester database (it has tables {sorted(tables)} "
                "but no harvester schema version)"
            )
        if version != DB_SCHEMA_MAJOR:
            raise SinkError(
                f"{self.path}: database schema major version {version} is not supported "
                f"(this harvester writes version {DB_SCHEMA_MAJOR}); use a new database file"
            )

    def _set_fts_triggers(self, on: bool) -> None:
        """`fts = false` drops the triggers; turning it back on rebuilds the index once."""
        db = self._db()
        have = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
        names = set(_TRIGGERS)
        if (on and names <= have) or (not on and not have & names):
            return
        db.execute("BEGIN IMMEDIATE")
        for name in names:
            db.execute(f"DROP TRIGGER IF EXISTS {name}")
        if on:
            for name, body in _TRIGGERS.items():
                db.execute(f"CREATE TRIGGER {name} {body}")
            db.execute("INSERT INTO papers_fts (papers_fts) VALUES ('rebuild')")
        db.execute("COMMIT")

    # -- writing -----------------------------------------------------------------------------

    def _row(self, paper: Paper, now: str) -> list[Any]:
        data = msgspec.to_builtins(paper)  # dates become the same ISO text the JSONL has
        row = [data[f] for f in FIELDS]
        encode = self._json.encode
        for name in JSON_COLUMNS:
            i = FIELDS.index(name)
            row[i] = encode(row[i]).decode()
        if not row[_KEY_AT]:
            row[_KEY_AT] = arxiv_key(paper.arxiv_id) if paper.arxiv_id else title_key(paper.title)
        row += [title_key(paper.title), now, now]
        return row

    def _write_batch(self, db: sqlite3.Connection, papers: Sequence[Paper]) -> None:
        now = _now()
        rows = [self._row(p, now) for p in papers]
        # title_key -> {key: arxiv_id} of the rows that share it, read once per batch and kept
        # current as the batch is placed, so records within one batch join each other too.
        by_title = self._rows_by_title_key(db, {r[_TITLE_KEY_AT] for r in rows})
        pending: list[list[Any]] = []
        for row in rows:
            key, arxiv_id, tkey = row[_KEY_AT], row[_ARXIV_AT], row[_TITLE_KEY_AT]
            same = by_title.setdefault(tkey, {})
            if arxiv_id:
                # Absorb only when no OTHER arXiv id shares the title: then it is ambiguous.
                others = any(a is not None and a != arxiv_id for a in same.values())
                strays = [] if others else [k for k, a in same.items() if a is None and k != key]
                if strays:
                    self._upsert(db, pending)
                    pending = []
                    for stray in strays:
                        self._absorb(db, stray, key, arxiv_id)
                        del same[stray]
                same[key] = arxiv_id
            else:
                with_id = [k for k, a in same.items() if a is not None]
                if len(with_id) == 1:
                    row[_KEY_AT] = with_id[0]  # the upsert's COALESCE keeps the arXiv id
                else:
                    same.setdefault(key, None)
            pending.append(row)
        self._upsert(db, pending)

    def _upsert(self, db: sqlite3.Connection, rows: list[list[Any]]) -> None:
        """One `executemany`; the rows it inserts are FTS-indexed in bulk afterwards."""
        if not rows:
            return
        if not self.options.fts:
            db.executemany(UPSERT, rows)
            return
        above = db.execute("SELECT coalesce(max(id), 0) FROM papers").fetchone()[0]
        db.execute("INSERT INTO meta (name, value) VALUES ('fts_deferred_above', ?)", (above,))
        db.executemany(UPSERT, rows)
        db.execute(
            "INSERT INTO papers_fts (rowid, title, abstract) "
            "SELECT id, title, abstract FROM papers WHERE id > ?",
            (above,),
        )
        db.execute("DELETE FROM meta WHERE name = 'fts_deferred_above'")

    def _rows_by_title_key(
        self, db: sqlite3.Connection, keys: set[str]
    ) -> dict[str, dict[str, str | None]]:
        found: dict[str, dict[str, str | None]] = {}
        cursor = db.execute(
            "SELECT title_key, key, arxiv_id FROM papers "
            "WHERE title_key IN (SELECT value FROM json_each(?))",
            (self._json.encode(list(keys)).decode(),),
        )
        for tkey, key, arxiv_id in cursor:
            found.setdefault(tkey, {})[key] = arxiv_id
        return found

    def _absorb(self, db: sqlite3.Connection, old_key: str, new_key: str, arxiv_id: str) -> None:
        """Merge the title-keyed row `old_key` into the arXiv-keyed row `new_key` (rule 2)."""
        target = db.execute("SELECT 1 FROM papers WHERE key = ?", (new_key,)).fetchone()
        if target is None:  # re-key in place: same id, so the FTS index needs no change
            db.execute(
                "UPDATE papers SET key = ?, arxiv_id = ? WHERE key = ?",
                (new_key, arxiv_id, old_key),
            )
            return
        # Both exist: the arXiv row keeps its values; the title row fills its gaps.
        fill = ", ".join(
            f"{c} = CASE WHEN papers.{c} IS NULL OR papers.{c} IN ('[]', '{{}}') "
            f"THEN old.{c} ELSE papers.{c} END"
            for c in COLUMNS
            if c not in _NOT_FILLED
        )
        fill += (
            ", published_inferred = CASE WHEN papers.published IS NULL "
            "THEN old.published_inferred ELSE papers.published_inferred END"
        )
        db.execute(
            f"UPDATE papers SET {fill}, first_seen = min(papers.first_seen, old.first_seen) "
            "FROM (SELECT * FROM papers WHERE key = ?) AS old WHERE papers.key = ?",
            (old_key, new_key),
        )
        db.execute("DELETE FROM papers WHERE key = ?", (old_key,))

    # -- helpers -----------------------------------------------------------------------------

    def _db(self) -> sqlite3.Connection:
        if self.db is None:
            raise SinkError(f"sqlite sink {self.options.path}: used before open()")
        return self.db

    def _disconnect(self) -> None:
        if self.db is not None:
            db, self.db = self.db, None
            db.close()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def read_papers(path, where: str = "", params: Sequence[Any] = ()) -> list[Paper]:
    """The papers stored in the database at `path`, as `Paper` records, ordered by key."""
    con = sqlite3.connect(path)
    try:
        cursor = con.execute(
            f"SELECT {', '.join(FIELDS)} FROM papers {where} ORDER BY key", tuple(params)
        )
        papers = []
        for values in cursor:
            data = dict(zip(FIELDS, values, strict=True))
            for name in JSON_COLUMNS:
                data[name] = msgspec.json.decode(data[name])
            for name in BOOL_COLUMNS:
                data[name] = bool(data[name])
            papers.append(msgspec.convert(data, Paper))
        return papers
    finally:
        con.close()


@hookimpl
def register_sinks(register) -> None:
    register(SqliteSink)
