"""`harvester status CONFIG`: the ledger of the config's run state, and the sections plugins
add (`status_section`), e.g. the workers' job queue."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

from .api import StatusSection
from .build import build_plan
from .config import load_config
from .errors import UsageError
from .ledger import deferrals, ledger, ledger_lines
from .plugins import load_plugins
from .state_stores import open_state_store


def status_report(
    config: Path, overrides: list[str], *, on_redactor: Callable | None = None
) -> list[StatusSection]:
    """The sections of `harvester status`: the ledger first. `UsageError` when the config
    keeps no state (there is no ledger without one)."""
    plan = build_plan(load_config(config, overrides))
    if on_redactor is not None:
        on_redactor(plan.redactor)
    spec = plan.settings.state
    if spec is None:
        raise UsageError(f"{plan.file}: no [run] state is configured: runs keep no ledger")
    store = open_state_store(spec, plan.base_dir, Path(plan.file).stem)
    try:
        state = store.load(readonly=True)
    finally:
        store.close()
    now = dt.datetime.now(dt.UTC)
    sources = ledger(plan, state, now.date())
    deferred = deferrals(state, now)
    data = {"state": store.where, "sources": [s.as_dict() for s in sources], "deferred": deferred}
    lines = [f"state {store.where}", *ledger_lines(sources, deferred)]
    if state.run is not None:
        lines.append(f"a run started at {state.run.started_at} is in progress or was interrupted")
    return [StatusSection("ledger", data, lines), *load_plugins().status_sections(plan)]
