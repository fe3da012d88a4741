"""The one run loop: every source's targets, in order, into every sink; checkpointed, resumable.

A record walks one way: `Source.fetch`/`read` -> `Finaliser` -> held until its target ends
(`Held`) -> `Outputs` (batches, sinks) -> commit -> state. This module owns every decision
around a target: skip or refresh it, read it, name its outcome (`harvester.outcomes.judge`, with
the guard's word), publish it or not, count it, and checkpoint. Sources only yield and declare.

Durability order at each checkpoint: flush batches -> every output commits -> the state (done
targets, the outputs' checkpoints) is saved. The state therefore never claims a target whose
records an output has not committed. The journal is saved before anything is written, so a run
killed at any moment, even before its first checkpoint, resumes from it: outputs cut back to
the last checkpoint, targets done in that run skipped, the same `harvested_at`.

How a run ends for its outputs: completed with papers -> DONE (published); stopped (signal,
time limit) or failed -> SUSPEND with state (resumable), ABANDON without; completed without a
single paper -> the paper outputs ABANDON, i.e. keep what they held; completed without state
while some target was not published -> the outputs that `replace` ABANDON (they would shrink).

A job (`job=True`, one of `harvester worker`'s, usually with `only` some targets) is the same
loop among concurrent ones: it holds the state's lock shared, keeps no journal (nothing to
resume: a job cut short is retried whole, into sinks that upsert) and leaves the state's
folding to whoever finds its log long.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Callable, Collection
from contextlib import nullcontext
from pathlib import Path

import msgspec

from .api import Outcome, Source, Target
from .errors import (
    Deferred,
    HarvesterError,
    InputError,
    OutputError,
    StaleJournal,
    TargetError,
    Unchanged,
)
from .finalise import Finaliser
from .guard import hold_reason
from .held import Held
from .jsonl import JsonlOutput
from .outcomes import CUT_OFF, DONE_OUTCOMES, TargetOutcome, Verdict, close_parts, judge
from .outputs import Outputs, check_against_state
from .pending import PendingChanges
from .plan import Plan
from .prefetch import prefetched
from .report import RunReport, SourceReport, TargetReport
from .schema import Paper
from .signals import Stopper, StopRequested
from .state import Checkpoint, RunJournal, State, apply, deferral_changes
from .state_stores import open_state_store

log = logging.getLogger("harvester")
Progress = Callable[[SourceReport], None]


class Run:
    """One run of a built plan. `execute()` returns the report; an output or state failure
    raises `OutputError` (exit 1), an unresumable journal `UsageError` (exit 2)."""

    def __init__(
        self,
        plan: Plan,
        *,
        refresh: bool = False,
        discard_journal: bool = False,
        progress: Progress | None = None,
        rejects: object | None = None,
        only: dict[str, Collection[str]] | None = None,
        job: bool = False,
        ignore_deferrals: bool = False,
    ):
        """`only`: source label -> the target ids to run (None: every target of every
        source); `job`: one job among concurrent ones (see the module docstring);
        `ignore_deferrals`: clear the host deferrals an earlier run saved."""
        self.plan, self.settings = plan, plan.settings
        self.refresh, self.discard_journal, self.progress = refresh, discard_journal, progress
        self.ignore_deferrals = ignore_deferrals
        self.only, self.job = only, job
        self.redact = plan.redactor  # configured header values never reach what a run writes
        state = plan.settings.state
        self.store = open_state_store(state, plan.base_dir, Path(plan.file).stem) if state else None
        if rejects is None:
            mode = self.settings.rejects_mode or ("append" if self.store else "replace")
            rejects = JsonlOutput(self._resolve(self.settings.rejects), mode=mode)
        places = {label: self._resolve(where) for label, where in plan.outputs.items()
                  if "://" not in where}  # fmt: skip
        if isinstance(rejects, JsonlOutput):
            places["rejects"] = rejects.writer.path
        self.outputs = Outputs(plan.sinks, rejects, self.settings.batch_size, places)
        self.report = RunReport(outputs=dict(plan.outputs))
        self.stopper = Stopper(self.settings.max_run_seconds)
        self.stopper.on_stop(plan.client.abort)  # fetches in flight and waits end at once
        plan.client.on_build = self.stopper.start_relay  # from then on there are some
        self.today = dt.datetime.now(dt.UTC).date()
        # Bookkeeping between checkpoints (applied to the state only once outputs committed).
        self.tokens: dict = {}  # the sinks' checkpoints at the last commit (to cut back to)
        self.papers = 0  # papers written by this run, resumed parts included
        self.last_checkpoint = time.monotonic()

    def _resolve(self, path: str) -> Path:
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.plan.base_dir / p

    # -- the run -------------------------------------------------------------------------------

    def execute(self) -> RunReport:
        started = time.monotonic()
        try:
            with self.store.lock(shared=self.job) if self.store else nullcontext():
                # --discard-journal also drops damaged checkpoints (their remedy)
                salvage = self.discard_journal
                self.state = self.store.load(salvage=salvage) if self.store else State()
                self.journal, resuming = self._journal()
                self.pending = PendingChanges(self.journal.run_id, self.redact)
                self.report.harvested_at = self.journal.started_at
                self._run_all(resuming)
        finally:
            self.report.fetch = self.plan.client.summary()
            self.plan.client.close()
            self.report.seconds = time.monotonic() - started
        return self.report

    def _journal(self) -> tuple[RunJournal, bool]:
        journal = None if self.job else self.state.run  # a job never resumes a run
        if journal is not None and not self.discard_journal:
            log.warning("resuming the interrupted run started at %s", journal.started_at)
            return journal, True
        if journal is not None:
            log.warning("discarding the interrupted run started at %s", journal.started_at)
        now = dt.datetime.now(dt.UTC).replace(microsecond=0)
        return RunJournal(started_at=now, run_id=uuid.uuid4().hex), False

    def _run_all(self, resuming: bool) -> None:
        papers_outcome = rejects_outcome = Outcome.SUSPEND if self.store else Outcome.ABANDON
        try:
            with self.stopper.on_signals():
                self._check_outputs(resuming)
                self._open(resuming)
                self._restore_deferrals()
                self._checkpoint()  # the journal exists before anything is written
                for label, source in self.plan.sources:
                    if self.only is None or label in self.only:
                        self._run_source(label, source)
                self._checkpoint()
            if not self.stopper.reason:
                rejects_outcome = Outcome.DONE
                papers_outcome = Outcome.DONE if self.papers else Outcome.ABANDON
        finally:
            self.outputs.close(papers_outcome, rejects_outcome, keep=self._kept(papers_outcome))
        self.report.published = papers_outcome is Outcome.DONE
        if self.stopper.reason:
            self.report.stopped = self.stopper.reason
            self.report.resume_hint = (
                "re-run the same command to resume"
                if self.store
                else "no [run] state is configured, so a re-run starts over"
            )
        elif self.store and not self.job:
            self._save(Checkpoint(generation=self.state.generation, run=None))  # complete
            self.store.compact(self.state)

    def _restore_deferrals(self) -> None:
        """Hand the saved host deferrals to the client, or (`ignore_deferrals`) let the next
        checkpoint clear them."""
        if not self.state.deferrals:
            return
        if self.ignore_deferrals:
            hosts = ", ".join(sorted(self.state.deferrals))
            log.warning("ignoring the saved deferrals of %s (--ignore-deferrals)", hosts)
            return
        self.plan.client.defer_hosts(self.state.deferrals)

    def _kept(self, papers_outcome: Outcome) -> set[str]:
        """Replacing outputs to leave as they were: without state, a run in which a target was
        not published would shrink them (its earlier records would vanish)."""
        if papers_outcome is not Outcome.DONE or self.store is not None:
            return set()
        whole = all(
            s.error is None
            and all(r.published or r.outcome is TargetOutcome.SKIPPED for r in s.outcomes)
            for s in self.report.sources
        )
        if whole:
            return set()
        kept = {label for label, sink in self.plan.sinks if sink.replaces}
        self.report.kept = sorted(f"{label} -> {self.plan.outputs[label]}" for label in kept)
        return kept

    def _check_outputs(self, resuming: bool) -> None:
        """Before any output opens: are the outputs what the state says was written?"""
        if self.store is not None and not self.job and not resuming:
            check_against_state(self.plan.sinks, self.plan.outputs, self.state, self.store.where)

    def _open(self, resuming: bool) -> None:
        journal = self.journal
        try:
            self.outputs.open(
                journal.sinks if resuming else None, journal.rejects if resuming else None
            )
        except HarvesterError as exc:
            if not resuming:
                raise
            raise StaleJournal(
                f"cannot resume the interrupted run started at {journal.started_at}: {exc}. "
                "Run again with --discard-journal to start a new run (the interrupted run's "
                "unpublished output is dropped)"
            ) from exc
        self.papers = journal.papers

    # -- one source ----------------------------------------------------------------------------

    def _run_source(self, label: str, source: Source) -> None:
        report = SourceReport(label=label, plugin=source.name)
        self.report.sources.append(report)
        finalise = Finaliser(
            source.name, self.journal.started_at, trusted=source.trusted, redact=self.redact
        )
        try:
            targets = [t if isinstance(t, Target) else Target(str(t)) for t in source.targets()]
        except HarvesterError as exc:
            report.error = str(exc)
            log.error("%s: %s", label, exc)
            return
        except Exception as exc:  # a plugin bug must not stop the other sources
            report.error = f"{type(exc).__name__}: {exc} (bug in source plugin {source.name!r})"
            log.exception("%s: %s", label, report.error)
            return
        if self.only is not None:
            wanted = self.only[label]
            targets = [t for t in targets if t.id in wanted]
        report.planned = len(targets)
        todo = [t for t in targets if not self._skip(label, t, report)]
        settings = source.context.fetch_settings
        workers = settings.per_host_concurrency if settings else 1
        reached = 0
        for target, fetch_error in prefetched(source, todo, workers, self.stopper.stopping):
            reached += 1
            self._target(label, source, target, fetch_error, finalise, report)
            target.fetched = None  # read: the page must not stay in memory until the source ends
            if self.progress:
                self.progress(report)
            if time.monotonic() - self.last_checkpoint >= self.settings.checkpoint_seconds:
                self._checkpoint()
        for target in todo[reached:]:
            self._end(label, target, report, Verdict(TargetOutcome.STOPPED, self.stopper.reason))
        self._checkpoint()

    def _skip(self, label: str, target: Target, report: SourceReport) -> bool:
        seen = self.state.source(label).done.get(target.id) if self.store else None
        if seen is None:
            return False
        target.memo = dict(seen.memo)
        skip = seen.run_id == self.journal.run_id  # done earlier in this (resumed) run
        if not skip and not self.refresh and not seen.resume:
            changed = target.fingerprint is not None and target.fingerprint != seen.fingerprint
            recent = target.date is not None and (
                (self.today - target.date).days <= self.settings.refresh_days
            )
            skip = not (changed or recent)
        if skip:
            why = f"{seen.outcome} in the run of {seen.done_at.date()}"
            report.add(TargetReport(target.id, TargetOutcome.SKIPPED, why, day=target.date))
        return skip

    def _target(self, label, source, target, fetch_error, finalise, report) -> None:
        """Read one target through to its outcome, then publish its papers or not."""
        held = Held()
        try:
            if fetch_error is not None:
                raise fetch_error
            self._read(source, target, finalise, held, report)
        except Unchanged:
            target.mark_unchanged()
        except Deferred as exc:
            verdict = Verdict(TargetOutcome.DEFERRED, self.redact(exc.reason))
            return self._end(label, target, report, verdict, held, until=exc.until)
        except OutputError:
            raise  # an output or the state failed: the run stops (no fault of the source's)
        except Exception as exc:
            verdict = self._failed(label, source, target, exc)
            return self._end(label, target, report, verdict, held, source=source)
        if target.unchanged:
            why = "not modified since the last run"
            report.add(TargetReport(target.id, TargetOutcome.SKIPPED, why, day=target.date))
            return None
        close_parts(target.declared, held.entries)
        held_back = None
        if source.guard_counts and target.empty is None:
            history = [*self.state.source(label).history, *self.pending.history(label)]
            held_back = hold_reason(history, held.paper_count, self.settings)
        verdict = judge(
            target.declared,
            entries=held.entries,
            rejected=len(held.rejects),
            asked_day=target.date,
            held_back=held_back,
        )
        return self._end(label, target, report, verdict, held, source=source)

    def _failed(self, label: str, source: Source, target: Target, exc: Exception) -> Verdict:
        """What an exception out of a source means for its target: stopped (a stop cut its
        fetch short, however the source passed that on), failed, or failed by a plugin bug."""
        if isinstance(exc, StopRequested) or self.stopper.reason is not None:
            return Verdict(TargetOutcome.STOPPED, self.stopper.reason)
        if isinstance(exc, TargetError):
            # the location is the target's own name: say it once, not "t: t: problem"
            reason = exc.problem if exc.location == target.id else str(exc)
            return Verdict(TargetOutcome.FAILED, self.redact(reason))
        # a plugin bug must not stop the other targets
        reason = f"{type(exc).__name__}: {exc} (bug in source plugin {source.name!r})"
        log.exception("%s: %s: %s", label, target.id, reason)
        return Verdict(TargetOutcome.FAILED, self.redact(reason))

    def _read(self, source, target, finalise, held: Held, report: SourceReport) -> None:
        """The target's entries, finalised, into `held`; papers past `hold_papers` stream."""
        limit, where, hold = self.settings.max_entries, target.id, self.settings.hold_papers
        papers, rejects, stopper = held.papers, held.rejects, self.stopper
        entries = 0
        try:
            for item in source.read(target):
                entries += 1
                target.entries = entries
                if entries > limit:
                    raise InputError(where, f"more than {limit} entries (run.max_entries)")
                out = finalise(item, where)
                if type(out) is Paper:
                    papers.append(out)
                    if len(papers) >= hold:
                        self._stream(held)
                else:
                    rejects.append(out)
                if stopper.reason is not None:
                    raise StopRequested
        finally:
            held.entries = entries
            held.paper_count = held.streamed + len(papers)
            report.entries += entries
            report.rejected += len(rejects)

    def _stream(self, held: Held) -> None:
        """A target past the hold: checkpoint what came before it (so that it can be cut back
        to there), then hand its papers to the outputs as they come."""
        if not held.streamed:
            self._checkpoint()
        add = self.outputs.add_paper
        for paper in held.papers:
            add(paper)
        held.streamed += len(held.papers)
        held.papers.clear()

    def _end(
        self,
        label: str,
        target: Target,
        report: SourceReport,
        verdict: Verdict,
        held: Held | None = None,
        *,
        source: Source | None = None,
        until: dt.datetime | None = None,
    ) -> None:
        """Publish a target's papers or not, by its outcome; report it; record it for the
        state. Its rejects are written whatever the outcome (a failed target's papers with
        them), except for a target cut off by a stop or a deferral, read whole later."""
        held = held or Held()
        outcome = verdict.outcome
        published = outcome in DONE_OUTCOMES or (
            outcome is TargetOutcome.INCOMPLETE and source is not None and source.publish_incomplete
        )
        if published:
            add = self.outputs.add_paper
            for paper in held.papers:
                add(paper)
            report.written += held.paper_count
            self.papers += held.paper_count
        else:
            if held.streamed:
                self.outputs.cut_back(self.tokens)
            report.unpublished += held.paper_count
        if outcome not in CUT_OFF:
            rejects = held.rejects
            if outcome is TargetOutcome.FAILED and source is not None:
                rejects = rejects + held.unpublished(source.name, target.id, verdict.reason or "")
            for reject in rejects:
                self.outputs.add_reject(reject)
        ended = TargetReport(
            target.id,
            outcome,
            verdict.reason,
            entries=held.entries,
            papers=held.paper_count,
            rejected=len(held.rejects),
            published=published,
            declared=verdict.expected,
            day=target.date,
            until=until,
        )
        report.add(ended)
        ended.log(label)
        if published:
            guarded = source is not None and source.guard_counts
            self.pending.done(label, target, held.paper_count, outcome, guarded=guarded)
        else:
            self.pending.unfinished(label, target.id, verdict, until)

    # -- checkpoints ---------------------------------------------------------------------------

    def _checkpoint(self) -> None:
        """Commit every output, then save what those commits cover."""
        sinks, rejects = self.outputs.commit()
        self.tokens = sinks
        self.last_checkpoint = time.monotonic()
        if self.store is None:
            self.pending.take(0, {})
            return
        journal = self.journal
        journal.sinks, journal.rejects, journal.papers = sinks, rejects, self.papers
        change = self.pending.take(
            self.state.generation,
            deferral_changes(self.state.deferrals, self.plan.client.deferrals()),
            msgspec.UNSET if self.job else journal,
        )
        changed = change.done or change.unfinished or change.history or change.deferrals
        if self.job and not changed:
            return  # a job keeps no journal: nothing to save
        self._save(change)

    def _save(self, change: Checkpoint) -> None:
        apply(self.state, change)
        assert self.store is not None  # saved only with [run] state
        self.store.append(change, self.state)
