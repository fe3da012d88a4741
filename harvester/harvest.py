"""One harvest run: every source into every sink, checkpointed, resumable, stoppable.

Order of durability at each checkpoint: flush batches -> every sink commits -> the state (done
targets, sink resume tokens) is saved atomically. State therefore never claims a target whose
records a sink has not committed, and a run killed at any moment resumes from its journal: sinks
cut back to the last checkpoint, targets done in that run are skipped, the same `harvested_at`.

SIGINT/SIGTERM stop between targets: what is done is committed, and with `[run] state` the run
can be resumed by running the same command again. A second SIGINT aborts at once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import signal
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from .api import Source
from .config import RunConfig, RunSettings
from .errors import SinkError
from .jsonl import JsonlOutput
from .pipeline import (
    RunReport,
    SourceReport,
    TargetPolicy,
    build_sink,
    build_source,
    iter_source,
    make_context,
)
from .plugins import load_plugins
from .schema import Paper, Rejected
from .state import HISTORY, RunJournal, State, StateStore, TargetState, done_in_run

log = logging.getLogger("harvester")

REJECTS = "#rejects"  # the rejects writer's name among the sinks in the run journal
Progress = Callable[[str, SourceReport], None]


class Harvest:
    """One run of a config. `run()` returns the report; a sink failure raises `SinkError`."""

    def __init__(
        self, config: RunConfig, *, progress: Progress | None = None, refresh: bool = False
    ):
        self.config = config
        self.progress = progress
        self.refresh = refresh
        self.context = make_context(config)
        self.stop_reason: str | None = None
        registry = load_plugins()
        file = config.file
        # Build everything first: a config error must stop the run before any output is touched.
        self.sources = [
            (spec.label, build_source(registry, spec, self.context, file))
            for spec in config.sources
        ]
        self.sinks: list[tuple[str, Any]] = [
            (spec.label, build_sink(registry, spec, self.context, file)) for spec in config.sinks
        ]

    def run(self) -> RunReport:
        settings = self.config.run
        started = time.monotonic()
        store = StateStore(self.context.resolve(settings.state)) if settings.state else None
        state = store.load() if store else State()
        resuming = state.run is not None
        if state.run is None:
            state.run = RunJournal(
                started_at=dt.datetime.now(dt.UTC).replace(microsecond=0), run_id=uuid.uuid4().hex
            )
        journal = state.run
        if resuming:
            log.warning("resuming the interrupted run started at %s", journal.started_at)
        rejects = JsonlOutput(self.context.resolve(settings.rejects))
        sinks = [*self.sinks, (REJECTS, rejects)]
        deadline = started + settings.max_run_seconds if settings.max_run_seconds else None
        checkpoints = _Checkpoints(sinks, store, state, settings)
        policy = _RunPolicy(self, state, journal, settings, checkpoints, deadline)
        report = RunReport()
        opened: list[tuple[str, Any]] = []
        outcome = "failed"
        try:
            with _stop_on_signals(self):
                for label, sink in sinks:
                    sink.open(resume=journal.sinks.get(label) if resuming else None)
                    opened.append((label, sink))
                for label, source in self.sources:
                    source_report = SourceReport(label=label, plugin=source.name)
                    report.sources.append(source_report)
                    self._run_source(
                        label, source, source_report, policy, checkpoints, journal.started_at
                    )
                checkpoints.commit()
                outcome = "stopped" if self.stop_reason else "done"
        finally:
            self._close(opened, outcome, store is not None)
            report.fetch = self.context.fetch_summary()
            self.context.close()
        if outcome == "done" and store is not None:
            state.run = None  # the run is complete: the next one starts afresh
            store.save(state)
        report.stopped = self.stop_reason
        if self.stop_reason:
            report.resume_hint = (
                "re-run the same command to resume"
                if store is not None
                else "no [run] state is configured, so a re-run starts over"
            )
        report.seconds = time.monotonic() - started
        return report

    def _run_source(
        self,
        label: str,
        source: Source,
        report: SourceReport,
        policy: _RunPolicy,
        checkpoints: _Checkpoints,
        now: dt.datetime,
    ) -> None:
        policy.begin(label, report)
        if self.progress:
            self.progress("start", report)
        add = checkpoints.add
        for item in iter_source(
            source, report, now, policy, max_entries=self.config.run.max_entries
        ):
            add(item)
        checkpoints.commit()
        if self.progress:
            self.progress("done", report)

    def _close(self, opened: list[tuple[str, Any]], outcome: str, resumable: bool) -> None:
        """Publish on success; on a stop or failure keep a resumable checkpoint, or, without
        state, leave the previous output as it was."""
        errors = []
        for label, sink in reversed(opened):
            try:
                if outcome == "done":
                    sink.close(ok=True)
                elif resumable:
                    sink.suspend()
                else:
                    sink.close(ok=False)
            except Exception as exc:
                errors.append(f"{label}: {exc}")
        if errors and outcome == "done":
            raise SinkError("closing sinks: " + "; ".join(errors))
        for message in errors:
            log.error("closing after a failure: %s", message)


class _Checkpoints:
    """Batches papers and rejects to the sinks; commits every `checkpoint_seconds`."""

    def __init__(
        self,
        sinks: list[tuple[str, Any]],
        store: StateStore | None,
        state: State,
        settings: RunSettings,
    ):
        self.paper_sinks = [s for label, s in sinks if label != REJECTS]
        self.rejects = next(s for label, s in sinks if label == REJECTS)
        self.sinks = sinks
        self.store, self.state = store, state
        self.size, self.interval = settings.batch_size, settings.checkpoint_seconds
        self.papers: list[Paper] = []
        self.rejected: list[Rejected] = []
        self.pending: list[Callable[[], None]] = []  # state updates waiting for a commit
        self.last = time.monotonic()

    def add(self, item: Paper | Rejected) -> None:
        if type(item) is Paper:
            self.papers.append(item)
            if len(self.papers) >= self.size:
                self.flush()
        else:
            self.rejected.append(item)

    def flush(self) -> None:
        if self.papers:
            for sink in self.paper_sinks:
                _guard(sink, "write", sink.write, self.papers)
            self.papers = []
        if self.rejected:
            _guard(self.rejects, "write", self.rejects.write, self.rejected)
            self.rejected = []

    def after_commit(self, update: Callable[[], None]) -> None:
        self.pending.append(update)
        if time.monotonic() - self.last >= self.interval:
            self.commit()

    def commit(self) -> None:
        self.flush()
        for _, sink in self.sinks:
            _guard(sink, "commit", sink.commit)
        for update in self.pending:
            update()
        self.pending = []
        if self.store is not None:
            self.state.run.sinks = {label: s.checkpoint_token() for label, s in self.sinks}
            self.store.save(self.state)
        self.last = time.monotonic()


class _RunPolicy(TargetPolicy):
    """Skip, refresh, stop and hold decisions from the run state and settings."""

    def __init__(
        self,
        harvest: Harvest,
        state: State,
        journal: RunJournal,
        settings: RunSettings,
        checkpoints: _Checkpoints,
        deadline: float | None,
    ):
        self.harvest, self.state, self.journal = harvest, state, journal
        self.settings, self.checkpoints, self.deadline = settings, checkpoints, deadline
        self.today = dt.datetime.now(dt.UTC).date()
        self.label = ""
        self.report: SourceReport | None = None
        # Counts of targets done but not yet committed (so not yet in the state's history):
        # the guard compares against them too, so a first run's pages guard each other.
        self.uncommitted: dict[str, list[int]] = {}

    def begin(self, label: str, report: SourceReport) -> None:
        self.label, self.report = label, report
        done = self.state.source(label).done
        context = self.harvest.context
        context.memos = {t: ts.memo for t, ts in done.items() if ts.memo}
        context.new_memos = {}

    def stop_reason(self) -> str | None:
        if self.harvest.stop_reason is None and self.deadline and time.monotonic() > self.deadline:
            self.harvest.stop_reason = f"run time limit of {self.settings.max_run_seconds:g} s"
        return self.harvest.stop_reason

    def skip(self, source: Source, target: str) -> bool:
        seen = self.state.source(self.label).done.get(target)
        if seen is None:
            return False
        if done_in_run(seen, self.journal):
            return True  # done earlier in this same (resumed) run
        if self.harvest.refresh:
            return False
        fingerprint = source.fingerprint(target)
        if fingerprint is not None and fingerprint != seen.fingerprint:
            return False
        day = source.target_date(target)
        return not (day is not None and (self.today - day).days <= self.settings.refresh_days)

    def hold_reason(self, source: Source, target: str, count: int) -> str | None:
        if target in source.empty_targets:
            return None
        history = [*self.state.source(self.label).history, *self.uncommitted.get(self.label, [])]
        history = history[-10:]
        if len(history) < self.settings.guard_min_history:
            return None
        median = statistics.median(history)
        if count < self.settings.guard_ratio * median:
            return (
                f"{count} papers, far fewer than the recent median of {median:g} "
                "(set run.guard_ratio = 0 to accept)"
            )
        return None

    def done(self, source: Source, target: str, records: int) -> None:
        context = self.harvest.context
        memo = context.new_memos.pop(target, None)
        if memo is None:
            memo = context.memos.get(target, {})
        entry = TargetState(
            done_at=dt.datetime.now(dt.UTC).replace(microsecond=0),
            run_started_at=self.journal.started_at,
            run_id=self.journal.run_id,
            records=records,
            fingerprint=source.fingerprint(target),
            memo=memo,
        )
        source_state = self.state.source(self.label)
        counted = source.guard_counts and target not in source.empty_targets
        uncommitted = self.uncommitted.setdefault(self.label, [])
        if counted:
            uncommitted.append(records)

        def apply() -> None:  # only once the sinks committed this target's records
            source_state.done[target] = entry
            if counted:
                source_state.history = [*source_state.history, uncommitted.pop(0)][-HISTORY:]

        self.checkpoints.after_commit(apply)
        if self.harvest.progress and self.report is not None:
            self.harvest.progress("target", self.report)


def _guard(sink: Any, action: str, fn: Callable, *args) -> None:
    """Sink failures are fatal for the run: re-raise as SinkError naming the sink."""
    try:
        fn(*args)
    except SinkError:
        raise
    except OSError as exc:
        name = getattr(sink, "name", None) or type(sink).__name__
        raise SinkError(f"{name}: {action} failed: {exc}") from exc


@contextlib.contextmanager
def _stop_on_signals(harvest: Harvest) -> Iterator[None]:
    """SIGINT/SIGTERM ask the run to stop after the current target; a second SIGINT aborts."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        name = signal.Signals(signum).name
        if harvest.stop_reason is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        harvest.stop_reason = f"stopped by {name}"
        log.warning("%s: finishing the current target, then stopping", name)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old)
