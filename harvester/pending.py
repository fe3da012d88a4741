"""What the run state records at the next checkpoint, gathered as targets end: the targets done
(with what a later run needs of them: fingerprint, memo, outcome), the targets left unfinished
(the ledger's gaps), and the paper counts of guarded listings. Taken whole, into one
`Checkpoint`, once the outputs have committed the records it covers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import msgspec

from .api import Target
from .outcomes import TargetOutcome, Verdict
from .state import Checkpoint, RunJournal, TargetState, Unfinished


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


class PendingChanges:
    def __init__(self, run_id: str, redact: Callable[[str], str]):
        self.run_id, self.redact = run_id, redact
        self._done: list[tuple[str, str, TargetState]] = []
        self._unfinished: list[tuple[str, str, Unfinished]] = []
        self._history: list[tuple[str, int]] = []

    def done(
        self, label: str, target: Target, papers: int, outcome: TargetOutcome, *, guarded: bool
    ) -> None:
        """`target` is done: later runs skip it (unless it changes or is recent, or it was cut
        short to be resumed). A guarded listing's complete count joins its source's history."""
        memo = target.remembered if target.remembered is not None else target.memo
        entry = TargetState(
            done_at=_now(),
            run_id=self.run_id,
            records=papers,
            fingerprint=target.fingerprint,
            memo={k: self.redact(v) for k, v in memo.items()},
            outcome=str(outcome),
            resume=target.declared.resume and outcome is TargetOutcome.INCOMPLETE,
        )
        self._done.append((label, target.id, entry))
        if guarded and outcome is TargetOutcome.COMPLETE:
            self._history.append((label, papers))

    def unfinished(
        self, label: str, target: str, verdict: Verdict, until: dt.datetime | None
    ) -> None:
        attempt = Unfinished(
            outcome=str(verdict.outcome), at=_now(), reason=verdict.reason, until=until
        )
        self._unfinished.append((label, target, attempt))

    def history(self, label: str) -> list[int]:
        """The guarded counts of `label` not yet saved."""
        return [n for lbl, n in self._history if lbl == label]

    def take(
        self,
        generation: int,
        deferrals: dict[str, dt.datetime | None],
        run: RunJournal | Any = msgspec.UNSET,
    ) -> Checkpoint:
        """Everything gathered since the last call, as one checkpoint (and forget it)."""
        change = Checkpoint(
            generation=generation,
            done=self._done,
            unfinished=self._unfinished,
            history=self._history,
            deferrals=deferrals,
            run=run,
        )
        self._done, self._unfinished, self._history = [], [], []
        return change
