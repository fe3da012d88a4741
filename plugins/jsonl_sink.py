"""The `jsonl` sink: one paper per line, exactly as `msgspec.json.encode(paper)` writes it.

The JSONL is a public contract (see `harvester.schema`): every field present, nulls as null,
dates ISO 8601. Writing goes through `harvester.jsonl.JsonlWriter`, so a killed run never
leaves a half-written file in place of the previous good one.

Options: ``path`` (required; relative to the config file's directory) and ``mode``:
``"replace"`` (default: the file holds exactly this run's papers, published at close) or
``"append"`` (incremental: new papers are appended; a crash's partial last line is cut off).

Resume: `checkpoint_token()` is ``{"mode", "offset"}`` of the last commit; `suspend()` keeps the
committed output (replace mode: the unpublished ``.partial``) and ``open(resume=token)`` cuts
it back to that offset and continues.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from harvester.api import Sink, SinkOptions
from harvester.errors import SinkError
from harvester.hookspecs import hookimpl
from harvester.jsonl import JsonlOutput
from harvester.schema import Paper


class JsonlSinkOptions(SinkOptions, kw_only=True, forbid_unknown_fields=True):
    path: str
    mode: Literal["replace", "append"] = "replace"


class JsonlSink(Sink):
    name = "jsonl"
    Options = JsonlSinkOptions

    options: JsonlSinkOptions
    output: JsonlOutput | None = None

    def open(self, resume: Any = None) -> None:
        self.output = JsonlOutput(self.context.resolve(self.options.path), mode=self.options.mode)
        self.output.open(resume)

    def write(self, papers: Sequence[Paper]) -> None:
        self._output().write(papers)

    def commit(self) -> None:
        self._output().commit()

    def checkpoint_token(self) -> dict[str, Any]:
        return self._output().checkpoint_token()

    def suspend(self) -> None:
        if self.output is not None:
            self.output.suspend()

    def close(self, ok: bool = True) -> None:
        if self.output is not None:
            self.output.close(ok=ok)

    def _output(self) -> JsonlOutput:
        if self.output is None:
            raise SinkError(f"jsonl sink {self.options.path}: used before open()")
        return self.output


@hookimpl
def register_sinks(register) -> None:
    register(JsonlSink)
