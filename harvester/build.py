"""Building a run: a checked config becomes plugin instances, before any output is opened.

Everything that can be wrong about how a run was asked for (an unknown plugin, a misspelt or
out-of-range option, a plugin's own cross-field check) fails here, as a `UsageError` naming the
file and key, so a run that cannot run never touches its outputs.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from .api import Sink, SinkContext, Source, SourceContext
from .config import PluginSpec, RunConfig, convert
from .fetch.redact import Redactor
from .fetch.runclient import SharedClient
from .fetch.settings import PROCESS_BUDGET
from .pgconn import is_postgres_url, split_name
from .plan import Plan
from .plugins import Registry, load_plugins

log = logging.getLogger("harvester")


def build_plan(
    config: RunConfig, registry: Registry | None = None, *, cache_dir: Path | None = None
) -> Plan:
    """Instances of every source and sink of `config`; raises `UsageError`. `cache_dir`: the
    fetcher's development cache (`harvester run --cache DIR`), off by default."""
    registry = registry or load_plugins()
    redactor = Redactor.from_settings(config.fetch, *(spec.fetch for spec in config.sources))
    redactor.add(*_url_passwords(config.run.state, config.fetch.budget_store))
    limiter = None
    budget_store = shared_budget(config)
    if budget_store is not None:
        from .fetch.shared import open_budget

        limiter = open_budget(budget_store, config.base_dir)
    client = SharedClient(config.fetch, redactor=redactor, cache_dir=cache_dir, limiter=limiter)
    incremental = config.run.state is not None
    sources = [
        (spec.label, build_source(registry, spec, config, client)) for spec in config.sources
    ]
    sinks = [(spec.label, build_sink(registry, spec, config, incremental)) for spec in config.sinks]
    outputs = {spec.label: _where(spec) for spec in config.sinks}
    return Plan(config.run, config.base_dir, sources, sinks, client, config.file, outputs, redactor)


def shared_budget(config: RunConfig) -> str | None:
    """Where the run books its requests: `[fetch] budget_store`; unset, the state's database
    when the state is in PostgreSQL (every run, shard and worker of that state shares one
    budget without being told), else None (this process paces itself)."""
    store = config.fetch.budget_store
    if store == PROCESS_BUDGET:
        return None
    state = config.run.state
    if store is None and state is not None and is_postgres_url(state):
        return split_name(state)[0]
    return store


def build_source(
    registry: Registry, spec: PluginSpec, config: RunConfig, client: SharedClient
) -> Source:
    context = SourceContext(
        label=spec.label,
        base_dir=config.base_dir,
        log=logging.getLogger(f"harvester.source.{spec.label}"),
        fetch_settings=spec.fetch or config.fetch,
        client=client,
    )
    return _instance(registry.source, spec, config, context)


def build_sink(registry: Registry, spec: PluginSpec, config: RunConfig, incremental: bool) -> Sink:
    context = SinkContext(
        label=spec.label,
        base_dir=config.base_dir,
        log=logging.getLogger(f"harvester.sink.{spec.label}"),
        incremental=incremental,
    )
    return _instance(registry.sink, spec, config, context)


def _instance(lookup, spec: PluginSpec, config: RunConfig, context):
    """The plugin class `spec` names, built with its options checked against its `Options`."""
    cls = lookup(spec.plugin, file=config.file, key=f"{spec.key}.plugin")
    return cls(convert(spec.options, cls.Options, file=config.file, key=spec.key), context)


def _where(spec: PluginSpec) -> str:
    """What a sink's summary line names: its path or URL option (a password never shown)."""
    for key in ("path", "url"):
        value: Any = spec.options.get(key)
        if isinstance(value, str):
            return redact_url(value)
    return spec.plugin


def redact_url(text: str) -> str:
    """`scheme://user:password@host/...` with the password replaced by `***`."""
    scheme, sep, rest = text.partition("://")
    if not sep or "@" not in rest.split("/", 1)[0]:
        return text
    userinfo, _, host = rest.partition("@")
    user, has_password, _ = userinfo.partition(":")
    return f"{scheme}://{user}{':***' if has_password else ''}@{host}"


def _url_passwords(*urls: str | None) -> list[str]:
    """The passwords in database URLs of the config, for the redactor: whatever quotes them
    by mistake (a driver's message, a log line) shows `[REDACTED]`."""
    found = []
    for url in urls:
        if url and "://" in url and "@" in url.split("://", 1)[1].split("/", 1)[0]:
            userinfo = url.split("://", 1)[1].split("@", 1)[0]
            _, has_password, password = userinfo.partition(":")
            if has_password and password:
                found.append(password)
    return found
