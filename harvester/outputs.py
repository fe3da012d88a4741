"""A run's outputs: its sinks and its rejects file, driven together through the sink lifecycle.

Papers and rejects are batched; a full batch is written to every sink at once. `commit()`
commits every output and returns their checkpoints. A sink that fails (or has a bug: any
exception) stops the run with a `SinkError` naming it, never a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from .api import Outcome, Sink
from .errors import HarvesterError, SinkError
from .schema import Paper, Rejected

log = logging.getLogger("harvester")


class Outputs:
    """The sinks (label, instance) and the rejects output of one run."""

    def __init__(self, sinks: list[tuple[str, Sink]], rejects: Any, batch_size: int):
        self.sinks = sinks
        self.rejects = rejects  # a harvester.jsonl.JsonlOutput (or anything with its lifecycle)
        self.batch_size = batch_size
        self.papers: list[Paper] = []
        self.rejected: list[Rejected] = []
        self.opened: list[tuple[str, Any]] = []

    def open(self, sink_checkpoints: dict[str, Any] | None, rejects_checkpoint: Any) -> None:
        """Open every output, resuming from the checkpoints of an interrupted run if given."""
        for label, sink in self.sinks:
            resume = sink_checkpoints.get(label) if sink_checkpoints is not None else None
            _call(label, "open", sink.open, resume)
            self.opened.append((label, sink))
        _call("rejects", "open", self.rejects.open, rejects_checkpoint)
        self.opened.append(("rejects", self.rejects))

    def add(self, item: Paper | Rejected) -> None:
        if type(item) is Paper:
            self.add_paper(item)
        else:
            self.add_reject(item)

    def add_paper(self, paper: Paper) -> None:
        papers = self.papers
        papers.append(paper)
        if len(papers) >= self.batch_size:
            self.flush()

    def add_reject(self, reject: Rejected) -> None:
        self.rejected.append(reject)

    def flush(self) -> None:
        if self.papers:
            batch, self.papers = self.papers, []
            for label, sink in self.sinks:
                _call(label, "write", sink.write, batch)
        if self.rejected:
            batch, self.rejected = self.rejected, []
            _call("rejects", "write", self.rejects.write, batch)

    def commit(self) -> tuple[dict[str, Any], Any]:
        """Flush, then commit every output: (sink checkpoints by label, rejects checkpoint)."""
        self.flush()
        tokens = {label: _call(label, "commit", sink.commit) for label, sink in self.sinks}
        return tokens, _call("rejects", "commit", self.rejects.commit)

    def cut_back(self, checkpoints: dict[str, Any]) -> None:
        """Drop every paper written since the sinks' last commit (their `checkpoints`): each
        sink is suspended and opened again from its checkpoint, as a resumed run would be."""
        self.papers = []
        for label, sink in self.sinks:
            _call(label, "close", sink.close, Outcome.SUSPEND)
            _call(label, "open", sink.open, checkpoints.get(label))

    def close(self, papers: Outcome, rejects: Outcome, *, keep: set[str] = frozenset()) -> None:
        """Close in reverse order; the sinks labelled in `keep` abandon (keep their previous
        output). Failures publishing (DONE) raise, others are logged."""
        errors = []
        for label, output in reversed(self.opened):
            outcome = rejects if output is self.rejects else papers
            if label in keep and output is not self.rejects:
                outcome = Outcome.ABANDON
            try:
                _call(label, "close", output.close, outcome)
            except SinkError as exc:
                if outcome is Outcome.DONE:
                    errors.append(str(exc))
                else:
                    log.error("closing after a failure: %s", exc)
        self.opened = []
        if errors:
            raise SinkError("; ".join(errors))


def _call(label: str, action: str, fn: Callable[..., Any], *args: Any) -> Any:
    """Run a sink method; any failure becomes a `SinkError` naming the sink."""
    try:
        return fn(*args)
    except HarvesterError:
        raise
    except OSError as exc:
        raise SinkError(f"sink {label!r}: {action} failed: {exc}") from exc
    except Exception as exc:
        raise SinkError(
            f"sink {label!r}: {action} failed: {type(exc).__name__}: {exc} (a bug in its plugin?)"
        ) from exc
