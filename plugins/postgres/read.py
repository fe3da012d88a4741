"""Reading a harvester PostgreSQL database back (`harvester.store`'s ``postgres`` kind):
one autocommit connection, reads only."""

from __future__ import annotations

from typing import Any

from harvester_plugins.store.tables import DatabaseStore

from harvester.store import StoreError

from .connect import describe, redact, settings

SCHEMES = ("postgresql://", "postgres://")


def _psycopg():
    import psycopg  # when a database is read, not when the plugin loads

    return psycopg


class PostgresStore(DatabaseStore):
    name = "postgres"
    kind = "a PostgreSQL database (postgresql://...)"
    PARAM = "%s"

    @classmethod
    def claims(cls, location: str) -> bool:
        return location.startswith(SCHEMES)

    def __init__(self, location: str):
        super().__init__(location)
        psycopg = _psycopg()
        try:
            self.con = psycopg.connect(**settings(location), autocommit=True)
        except psycopg.Error as exc:
            raise StoreError(
                f"{self.describe()}: cannot connect: {redact(str(exc), location)}"
            ) from None
        try:
            self._check()
        except BaseException:
            self.close()
            raise

    def describe(self) -> str:
        return describe(self.location)

    def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return self.con.execute(sql, params).fetchall()
        except _psycopg().Error as exc:
            raise StoreError(
                f"{self.describe()}: cannot read: {redact(str(exc), self.location)}"
            ) from None

    def _columns(self, table: str) -> list[str]:
        rows = self._query(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
            "AND table_schema = current_schema() ORDER BY ordinal_position",
            (table,),
        )
        return [name for (name,) in rows]

    def close(self) -> None:
        self.con.close()
