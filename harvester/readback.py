"""Opening a store a harvest wrote, whatever its kind: the registered store kinds
(`harvester.store.Store`, the `register_stores` hook) are asked which one claims a location.

The plugins that declare a store (`harvester.stores`) are asked first; only a location none of
them claims loads every plugin (an undeclared store, or a location no store reads): opening a
SQLite file need not import the arXiv and text-dump sources (~0.14 s of each command)."""

from __future__ import annotations

from pathlib import Path

from .plugins import load_plugins
from .store import Store, StoreError


def open_store(location: str) -> Store:
    """The store at `location` (a path or a URL), opened by the one registered kind that claims
    it; `StoreError` naming the kinds there are when none does, or the ones that both do."""
    registry = load_plugins()

    def claiming() -> list[type[Store]]:
        return [cls for cls in registry.stores.values() if cls.claims(location)]

    registry.load_declared_stores()
    claims = claiming()
    if not claims:  # an undeclared store may claim it, and the error names every kind
        registry.load_all()
        claims = claiming()
    if len(claims) == 1:
        return claims[0](location)
    if claims:
        names = ", ".join(f"{c.name} ({c.kind})" for c in claims)
        raise StoreError(f"{location}: more than one kind of store claims it: {names}")
    if "://" not in location and not Path(location).exists():
        raise StoreError(f"{location}: no such file or folder")
    known = "; ".join(c.kind for c in registry.stores.values()) or "none installed"
    failed = [p for p in registry.plugins if p.error]
    broken = "".join(f"; plugin {p.plugin} failed to load: {p.error}" for p in failed)
    raise StoreError(f"{location}: not a store harvester can read (it reads {known}){broken}")
