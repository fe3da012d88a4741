"""Reading a harvester SQLite database back (`harvester.store`'s ``sqlite`` kind): opened
read-only, so reading never creates, migrates or locks a database for writing."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from harvester_plugins.store.tables import DatabaseStore

from harvester.store import StoreError

SQLITE_MAGIC = b"SQLite format 3\x00"


def is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


class SqliteStore(DatabaseStore):
    name = "sqlite"
    kind = "a SQLite database file"
    PARAM = "?"

    @classmethod
    def claims(cls, location: str) -> bool:
        return is_sqlite(Path(location))

    def __init__(self, location: str):
        super().__init__(location)
        path = Path(location)
        try:
            self.con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot open the database: {exc}") from exc
        try:
            self._check()
        except BaseException:
            self.close()
            raise

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return self.con.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.location}: cannot read: {exc}") from exc

    def _columns(self, table: str) -> list[str]:
        return [row[1] for row in self._query(f"PRAGMA table_info({table})")]

    def close(self) -> None:
        self.con.close()
