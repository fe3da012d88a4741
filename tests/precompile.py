"""Bytecode written once, in the controller, before the xdist workers start.

Where PYTHONDONTWRITEBYTECODE is set (as on the CI machine), nothing the suite imports is
cached: every `harvester` subprocess would compile each module it imports (about twice the CPU
of its start-up), and each of the four workers would parse and rewrite the asserts of every
test module again (about 6 CPU-seconds each). Reading a cache is allowed under that setting, so
the controller writes the caches once, and then turns writing on for the suite's processes.

The venv is installed without `--compile-bytecode`: compiling all of it took 13 s of the test
command before any test ran (27 CPU-s), a third of its source being the packages' own tests.
The controller compiles the rest, less what hardly any process imports, in one process: on
two cores a process pool was no faster from cold (10.5 s against 10.0 s) and, with everything
compiled already, took 4.8 s to find nothing to do, against 0.8 s.
"""

from __future__ import annotations

import compileall
import os
import re
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Never imported, or only by a few tests: the packages' own tests (a third of the venv's source,
# most of it pandas'), mypy (it runs as compiled code), pip, pygments (it colours a terminal),
# polars, duckdb and pandas (the consumer, Parquet and README tests import them where they
# read; pandas alone took 2.4 of the ~10 s). Whatever of them is imported is compiled by the
# first process that imports it.
NOT_PRECOMPILED = r"/(pip|mypy|mypyc|pygments|polars|duckdb|pandas)/|/.*/tests/"


def compile_checkout() -> None:
    """The package, the built-ins, the benchmark (its smoke test starts ~40 processes of it)
    and the tests' helpers (imported plainly, not rewritten, in every worker and driver)."""
    for folder in ("harvester", "plugins", "bench"):
        compileall.compile_dir(ROOT / folder, quiet=1)
    for path in ROOT.joinpath("tests").rglob("*.py"):
        if not path.name.startswith("test_"):  # test modules get pytest's rewritten cache
            compileall.compile_file(path, quiet=1)


def compile_site_packages() -> None:
    """The venv's packages but for NOT_PRECOMPILED: the workers import most of them while
    they collect, all four at once."""
    site = Path(sysconfig.get_paths()["purelib"])
    if not site.is_dir():
        return
    skipped = re.compile(re.escape(str(site)) + "(" + NOT_PRECOMPILED + ")")
    compileall.compile_dir(site, quiet=1, rx=skipped)


def write_bytecode_from_here() -> None:
    """Bytecode written by this process and every process it starts from now on (the workers
    among them), so a module compiled once is read back by the rest."""
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.dont_write_bytecode = False


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
