"""Shared test fixtures.

Installed third-party plugins stay out of the suite: only the built-in entry points load unless a
test installs a plugin on purpose (tests/test_example_plugin.py does, in its own venv).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
BUILTIN_PLUGINS = "textdump,jsonl,sqlite,hf-papers,hf-api,parquet,biblio,feed,report"

os.environ["HARVESTER_PLUGINS"] = BUILTIN_PLUGINS


@pytest.fixture(autouse=True)
def _fresh_plugins(monkeypatch):
    """Every test starts from the built-in plugins only, loaded anew."""
    from harvester import plugins

    monkeypatch.setenv("HARVESTER_PLUGINS", BUILTIN_PLUGINS)
    plugins.reset()
    yield
    plugins.reset()


# Cassettes (pytest-recording): replayed only (CI passes --record-mode=none and blocks the
# network); headers that could carry secrets or cookies are never written; bodies are stored
# decoded so a cassette can be read and reviewed. See cassettes/README.md to re-record.
SECRET_HEADERS = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "x-auth-token",
    "x-csrf-token",
    "x-hf-token",
    "x-amz-security-token",
]


@pytest.fixture(scope="session")
def vcr_config():
    return {
        "filter_headers": SECRET_HEADERS,
        "decode_compressed_response": True,
        "record_mode": "none",
    }


@pytest.fixture(scope="session")
def vcr_cassette_dir():
    return str(ROOT / "cassettes")


@pytest.fixture
def shared_dir() -> Path:
    """../shared (real seeds and reference pages). Present in CI; skipped where it is not."""
    if not (SHARED / "seeds").is_dir():
        pytest.skip("../shared is not available here")
    return SHARED


@pytest.fixture
def seeds_dir(shared_dir) -> Path:
    return shared_dir / "seeds"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def plugin_venv(tmp_path_factory):
    """A fresh venv with harvester, the example plugin, a broken plugin and the plugin guide's
    example project installed (tests/venv.py); built once per session."""
    from .venv import build_venv

    return build_venv(tmp_path_factory.mktemp("plugin-venv"))
