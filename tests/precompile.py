"""Bytecode written once, in the controller, before the xdist workers start.

Where PYTHONDONTWRITEBYTECODE is set (as on the CI machine), nothing the suite imports is
cached: every `harvester` subprocess would compile each module it imports (about twice the CPU
of its start-up), and each of the four workers would parse and rewrite the asserts of every
test module again (about 6 CPU-seconds each). Reading a cache is allowed under that setting, so
the controller writes both caches once.
"""

from __future__ import annotations

import compileall
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def compile_checkout() -> None:
    """The package, the built-ins, the benchmark (its smoke test starts ~40 processes of it)
    and the tests' helpers (imported plainly, not rewritten, in every worker and driver)."""
    for folder in ("harvester", "plugins", "bench"):
        compileall.compile_dir(ROOT / folder, quiet=1)
    for path in ROOT.joinpath("tests").rglob("*.py"):
        if not path.name.startswith("test_"):  # test modules get pytest's rewritten cache
            compileall.compile_file(path, quiet=1)


def write_rewritten_test_modules(config: pytest.Config) -> None:
    """pytest's own rewrite of each test module, cached where its import hook looks first.
    Its private API: if it moves, the workers just rewrite the modules themselves again."""
    try:
        from _pytest.assertion.rewrite import (
            PYC_TAIL,
            _read_pyc,
            _rewrite_test,
            _write_pyc,
            assertstate_key,
            get_cache_dir,
        )
    except ImportError:
        return
    state = config.stash.get(assertstate_key, None)
    if state is None:  # --assert=plain: nothing is rewritten
        return
    for path in sorted(ROOT.joinpath("tests").rglob("*.py")):
        if not (path.name.startswith("test_") or path.name == "conftest.py"):
            continue
        cache_dir = get_cache_dir(path)
        cache_dir.mkdir(parents=True, exist_ok=True)  # under sys.pycache_prefix if set
        pyc = cache_dir / (path.name[:-3] + PYC_TAIL)
        if _read_pyc(path, pyc) is None:
            stat, code = _rewrite_test(path, config)
            _write_pyc(state, code, stat, pyc)
