"""The `jsonl` sink: one paper per line, exactly as `msgspec.json.encode(paper)` writes it.

The JSONL is a public contract (see `harvester.schema`): every field present, nulls as null,
dates ISO 8601. Writing goes through `harvester.jsonl.JsonlWriter`, so a killed run never
leaves a half-written file in place of the previous good one.

Options: ``path`` (required; relative to the config file's directory) and ``mode``:
``"replace"`` (default: the file holds exactly this run's papers, published at close) or
``"append"`` (incremental: new papers are appended; a crash's partial last line is cut off).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from harvester.api import Sink, SinkOptions
from harvester.errors import SinkError
from harvester.hookspecs import hookimpl
from harvester.jsonl import JsonlWriter
from harvester.schema import Paper


class JsonlSinkOptions(SinkOptions, kw_only=True, forbid_unknown_fields=True):
    path: str
    mode: Literal["replace", "append"] = "replace"


class JsonlSink(Sink):
    name = "jsonl"
    Options = JsonlSinkOptions

    options: JsonlSinkOptions
    writer: JsonlWriter | None = None

    def open(self) -> None:
        path = self.context.resolve(self.options.path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SinkError(f"{path}: cannot create its directory: {exc.strerror or exc}") from exc
        self.writer = JsonlWriter(path, mode=self.options.mode)
        self.writer.open()

    def write(self, papers: Sequence[Paper]) -> None:
        self._writer().write(papers)

    def commit(self) -> None:
        self._writer().commit()

    def close(self, ok: bool = True) -> None:
        if self.writer is not None:
            self.writer.close(ok=ok)

    @property
    def committed_offset(self) -> int:
        """Byte size of the output at the last commit (append mode: a resume checkpoint)."""
        return self._writer().committed_offset

    def _writer(self) -> JsonlWriter:
        if self.writer is None:
            raise SinkError(f"jsonl sink {self.options.path}: used before open()")
        return self.writer


@hookimpl
def register_sinks(register) -> None:
    register(JsonlSink)
