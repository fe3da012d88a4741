"""Shared test fixtures.

Installed third-party plugins stay out of the suite: only the built-in entry points load unless a
test installs a plugin on purpose (tests/test_example_plugin.py does, in its own venv).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .pg import pg_server, pg_url  # noqa: F401 (a real PostgreSQL server for any test)
from .schedule import longest_first

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
BUILTIN_PLUGINS = (
    "textdump,jsonl,sqlite,postgres,hf-papers,hf-api,parquet,biblio,feed,report,workers,"
    "arxiv-listing,arxiv-oai,arxiv-api"
)

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
# network); bodies are stored decoded so a cassette can be read and reviewed. See
# cassettes/README.md to re-record. A header's name says nothing about whether its value is a
# secret (`Private-Token`), so recorded REQUESTS keep only the headers below, whatever else was
# configured; recorded RESPONSES lose cookies and any header named like a credential, and every
# secret a `Redactor` knows is masked in what remains.
RECORDABLE_REQUEST_HEADERS = frozenset(
    {"accept", "accept-encoding", "accept-language", "if-modified-since", "if-none-match"}
    | {"user-agent", "host", "connection", "content-length", "content-type"}
)
SECRET_HEADERS = ["set-cookie", "cookie", "authorization", "proxy-authorization"]
_CREDENTIAL_NAME = ("token", "key", "auth", "secret", "session", "cookie", "password")


def scrub_request(request):
    """vcrpy `before_record_request`: drop every request header not known to be harmless."""
    for name in list(request.headers):
        if name.lower() not in RECORDABLE_REQUEST_HEADERS:
            del request.headers[name]
    return request


def response_scrubber(redactor=None):
    """vcrpy `before_record_response`: drop cookies and credential-named headers; mask every
    secret `redactor` knows in the other header values and in the body."""

    def scrub(response: dict) -> dict:
        headers = response.get("headers", {})
        for name in list(headers):
            if any(word in name.lower() for word in _CREDENTIAL_NAME):
                del headers[name]
        if redactor:
            for name, values in headers.items():
                headers[name] = [redactor(v) for v in values]
            body = response.get("body", {}).get("string")
            if isinstance(body, bytes):
                text = body.decode("utf-8", errors="surrogateescape")
                masked = redactor(text).encode("utf-8", "surrogateescape")
                response["body"]["string"] = masked
                if masked != body:  # keep the recorded length true to the recorded body
                    for name in [n for n in headers if n.lower() == "content-length"]:
                        headers[name] = [str(len(masked))]
        return response

    return scrub


def cassette_options(redactor=None) -> dict:
    """The vcrpy options every recording uses (tests and cassettes/record.py)."""
    return {
        "filter_headers": SECRET_HEADERS,
        "before_record_request": scrub_request,
        "before_record_response": response_scrubber(redactor),
        "decode_compressed_response": True,
    }


@pytest.fixture(scope="session")
def vcr_config():
    return {**cassette_options(), "record_mode": "none"}


@pytest.fixture(scope="session")
def vcr_cassette_dir():
    return str(ROOT / "cassettes")


def pytest_configure(config: pytest.Config) -> None:
    """Once, before any worker starts: the checkout's bytecode and the rewritten test modules
    written (tests/precompile.py says why)."""
    if hasattr(config, "workerinput"):
        return
    from . import precompile

    precompile.compile_checkout()
    precompile.compile_site_packages()
    precompile.write_rewritten_test_modules(config)
    precompile.write_bytecode_from_here()


@pytest.hookimpl(tryfirst=True)  # before xdist's loadgroup reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that reads ../shared through its fixtures carries the `shared` marker, so
    `-m "not shared"` selects exactly the tests that run without it. The tests of the session's
    plugin venv run in one xdist worker (`--dist loadgroup`): they share the one venv, which
    some of them install into. The longest tests start first (tests/schedule.py)."""
    for item in items:
        names = getattr(item, "fixturenames", ())
        if "shared_dir" in names:
            item.add_marker(pytest.mark.shared)
        if "plugin_venv" in names:
            item.add_marker(pytest.mark.xdist_group("plugin-venv"))
    longest_first(items)


def pytest_collection_finish(session: pytest.Session) -> None:
    """In an xdist worker under `--dist loadgroup`, a grouped test's id must carry its group:
    otherwise every worker builds the plugin venv and the scaffold tests install into venvs the
    others read (pytest 9.2 with pytest-xdist 3.8 silently lost the groups)."""
    if not getattr(session.config.option, "loadgroup", False):
        return
    lost = [
        i.nodeid
        for i in session.items
        if i.get_closest_marker("xdist_group") and "@" not in i.nodeid
    ]
    if lost:
        pytest.exit(
            f"pytest-xdist did not group {lost[0]} (and {len(lost) - 1} more)", returncode=4
        )


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
