"""The `jsonl` sink: one paper per line, exactly as `msgspec.json.encode(paper)` writes it.

The JSONL is a public contract (see `harvester.schema`): every field present, nulls as null,
dates ISO 8601. Writing goes through `harvester.jsonl`, so a killed run never leaves a
half-written file in place of the previous good one.

Options: ``path`` (required; relative to the config's base_dir) and ``mode``:

* ``"replace"``: the file holds exactly this run's papers, published when the run ends;
* ``"append"``: each run appends the papers it read (a stream of sightings);
* unset (default): ``"append"`` when the run keeps state (`[run] state`: a re-run reads only
  what is new, so replacing would shrink the file to it), ``"replace"`` otherwise.

A run that wrote no papers (every target failed or was skipped), or was stopped, leaves the
file as it was. The checkpoint is ``{"mode", "offset"}`` of the last commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from harvester.api import Outcome, Sink, SinkOptions
from harvester.checks import SinkCheck
from harvester.hookspecs import hookimpl
from harvester.jsonl import JsonlOutput
from harvester.schema import Paper

from .check_readers import read_jsonl


class JsonlSinkOptions(SinkOptions, kw_only=True, forbid_unknown_fields=True):
    path: str
    mode: Literal["replace", "append"] | None = None  # None: append under [run] state


class JsonlSink(Sink):
    name = "jsonl"
    Options = JsonlSinkOptions
    options: JsonlSinkOptions
    check = SinkCheck(
        options={"path": "out/papers.jsonl", "mode": "replace"},
        read_back=read_jsonl,
        expected="check/jsonl/expected_records.jsonl",
        bad_options=[{"mode": "overwrite"}],
    )

    @property
    def mode(self) -> Literal["replace", "append"]:
        return self.options.mode or ("append" if self.context.incremental else "replace")

    @property
    def replaces(self) -> bool:
        return self.mode == "replace"

    def holds_at_least(self, count: int) -> bool:
        """Counts lines (one paper each) until `count`, reading 1 MiB at a time."""
        path, lines = self.context.resolve(self.options.path), 0
        try:
            with path.open("rb") as f:
                while lines < count and (chunk := f.read(1 << 20)):
                    lines += chunk.count(b"\n")
        except FileNotFoundError:
            return count <= 0
        except OSError:
            return True  # unreadable: opening it will say why
        return lines >= count

    def open(self, resume: Any = None) -> None:
        self.output = JsonlOutput(self.context.resolve(self.options.path), mode=self.mode)
        self.output.open(resume)

    def write(self, papers: Sequence[Paper]) -> None:
        self.output.write(papers)

    def commit(self) -> dict[str, Any]:
        return self.output.commit()

    def close(self, outcome: Outcome) -> None:
        self.output.close(outcome)


@hookimpl
def register_sinks(register) -> None:
    register(JsonlSink)


@hookimpl
def register_stores(register) -> None:
    from .jsonl_store import JsonlStore

    register(JsonlStore)
