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
from pathlib import Path
from typing import Any, Literal

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

    def open(self, resume: Any = None) -> None:
        """`resume`: a `checkpoint_token()` of an interrupted run, whose output is cut back to
        that checkpoint and continued (in replace mode: its unpublished `.partial`)."""
        path = self.context.resolve(self.options.path)
        offset = _resume_offset(path, self.options.mode, resume)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SinkError(f"{path}: cannot create its directory: {exc.strerror or exc}") from exc
        self.writer = JsonlWriter(path, mode=self.options.mode)
        self.writer.open(truncate_to=offset)

    def write(self, papers: Sequence[Paper]) -> None:
        self._writer().write(papers)

    def commit(self) -> None:
        self._writer().commit()

    def close(self, ok: bool = True) -> None:
        if self.writer is not None:
            self.writer.close(ok=ok)

    def checkpoint_token(self) -> dict[str, Any]:
        return {"mode": self.options.mode, "offset": self._writer().committed_offset}

    def suspend(self) -> None:
        if self.writer is not None:
            self.writer.suspend()

    @property
    def committed_offset(self) -> int:
        """Byte size of the output at the last commit (append mode: a resume checkpoint)."""
        return self._writer().committed_offset

    def _writer(self) -> JsonlWriter:
        if self.writer is None:
            raise SinkError(f"jsonl sink {self.options.path}: used before open()")
        return self.writer


def _resume_offset(path: Path, mode: str, resume: Any) -> int | None:
    if resume is None:
        return None
    if (
        not isinstance(resume, dict)
        or resume.get("mode") != mode
        or not isinstance(resume.get("offset"), int)
    ):
        raise SinkError(f"{path}: cannot resume from checkpoint {resume!r} (mode is {mode!r})")
    return resume["offset"]


@hookimpl
def register_sinks(register) -> None:
    register(JsonlSink)
