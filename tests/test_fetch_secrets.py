"""Secrets never leave the fetcher: every configured header value (whatever the header is
called) and every cookie a server sets are redacted in errors, logs and recorded cassettes;
header values with control characters are config errors that never repeat the value."""

from __future__ import annotations

import json
import logging
import sys

import msgspec
import pytest
import vcr

from harvester.fetch import (
    Fetcher,
    FetchSettings,
    Redactor,
    RedirectRefused,
    merge_settings,
)
from tests.conftest import cassette_options
from tests.localserver import LOOPBACK, OTHER_HOST, LocalServer, ok, redirect

from . import clirun

pytestmark = LOOPBACK

TOKEN = "glpat-S3cr3tT0kenValue"
API_KEY = "AIzaKey-99887766"
COOKIE = "C00KIE-VALUE-51d2e8"
HEADERS = {"Private-Token": TOKEN, "X-Goog-Api-Key": API_KEY, "Authorization": f"Bearer {TOKEN}"}
SETTINGS = FetchSettings(min_interval=0, robots=False, max_attempts=1, headers=HEADERS)


@pytest.mark.parametrize("value", ["a\nb", "a\r\nX-Evil: 1", "nul\x00", "esc\x1b[31m"])
def test_header_values_with_control_characters_are_config_errors(value):
    secret = f"SECRET-{value}"
    with pytest.raises(msgspec.ValidationError) as caught:
        merge_settings(FetchSettings(), {"headers": {"Private-Token": secret}})
    assert "Private-Token" in str(caught.value) and "control character" in str(caught.value)
    assert "SECRET" not in str(caught.value)
    with pytest.raises(msgspec.ValidationError, match="User-Agent"):
        merge_settings(FetchSettings(), {"user_agent": f"bot/1 {value}"})


@pytest.mark.parametrize("where", ["fetch", "source"])
@pytest.mark.parametrize("value", ["t\u00f6ken", "caf\u00e9 \u2603", "a\nb", "esc\u001b[31m"])
def test_a_header_value_that_cannot_be_sent_is_one_config_error_through_the_cli(
    tmp_path, value, where
):
    """Not ASCII, or a control character, in `[fetch] headers` or a source's `fetch`: exit 2
    with one line naming the file, the table and the header (never the value), before any
    target is tried (it used to be a traceback per target)."""
    secret = f"SECRET-{value}"
    table = f"headers = {{ X-Token = {json.dumps(secret)} }}"
    fetch, source_fetch = (
        (f"[fetch]\n{table}\n", "") if where == "fetch" else ("", f"fetch = {{ {table} }}\n")
    )
    config = tmp_path / "run.toml"
    config.write_text(
        f'[run]\nrejects = "rejects.jsonl"\n{fetch}[sources.hf]\nplugin = "hf-papers"\n'
        f'base_url = "http://127.0.0.1:9"\ndaily_from = 2024-01-01\ndaily_to = 2024-01-03\n'
        f'{source_fetch}[sinks.out]\nplugin = "jsonl"\npath = "papers.jsonl"\n',
        encoding="utf-8",
    )
    proc = clirun.run([sys.executable, "-m", "harvester.cli", "run", str(config)],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    table_name = "[fetch]" if where == "fetch" else "[sources.hf.fetch]"
    assert len(lines) == 1 and lines[0].startswith(f"harvester: error: {config}: {table_name}")
    assert "header 'X-Token'" in lines[0] and "SECRET" not in lines[0]
    assert ("not ASCII" if value.isprintable() else "control character") in lines[0]
    assert not (tmp_path / "papers.jsonl").exists()


def test_redactor_masks_values_and_their_long_parts_whatever_the_name():
    redact = Redactor.from_settings(SETTINGS, FetchSettings(headers={"Accept": "text/html"}))
    text = f"sent Bearer {TOKEN} and {API_KEY}; later {TOKEN} alone; asked for text/html"
    masked = redact(text)
    assert masked == (
        "sent [REDACTED] and [REDACTED]; later [REDACTED] alone; asked for [REDACTED]"
    )  # any configured value is a secret, even one that is not (the documented cost)
    assert Redactor(["ab"])("ab cd") == "ab cd"  # too short to be a secret worth masking


def test_errors_and_logs_never_carry_a_configured_value(caplog):
    """An off-site redirect whose Location carries the token: the error names both URLs, and
    the token is masked in the error and in every log line."""
    with LocalServer() as server:
        leak = server.url(f"/callback?token={TOKEN}", host=OTHER_HOST)
        server.route("/jump", redirect(leak))
        with (
            caplog.at_level(logging.DEBUG),
            Fetcher(SETTINGS) as fetcher,
            pytest.raises(RedirectRefused) as caught,
        ):
            fetcher.get(server.url("/jump"))
        sent = server.requests_for("/jump")[0].headers
    assert sent["private-token"] == TOKEN  # it was used
    assert "/callback?token=[REDACTED]" in str(caught.value) and TOKEN not in str(caught.value)
    assert TOKEN not in caplog.text and "giving up" in caplog.text


def test_cookie_values_become_secrets_and_leave_the_response(caplog):
    with LocalServer() as server:
        server.route("/", ok("x", headers={"Set-Cookie": f"session={COOKIE}; HttpOnly"}))
        with Fetcher(SETTINGS) as fetcher:
            response = fetcher.get(server.url("/"))
            assert "set-cookie" not in response.headers
            assert fetcher.redactor(f"cookie was {COOKIE}") == "cookie was [REDACTED]"
    handler = logging.StreamHandler()
    handler.addFilter(fetcher.redactor.logging_filter())
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "saw %s", (COOKIE,), None)
    handler.filter(record)
    assert record.getMessage() == "saw [REDACTED]"


def test_recorded_cassettes_hold_no_configured_header_or_cookie(tmp_path):
    cassette = tmp_path / "secrets.yaml"
    redactor = Redactor.from_settings(SETTINGS)
    recorder = vcr.VCR(record_mode="once", **cassette_options(redactor))
    with LocalServer() as server:
        headers = {"Set-Cookie": f"session={COOKIE}", "X-Session-Secret": COOKIE, "ETag": '"v1"'}
        server.route("/page", ok(f"echo {TOKEN}", headers=headers))
        url = server.url("/page")
        with recorder.use_cassette(str(cassette)), Fetcher(SETTINGS, redactor=redactor) as live:
            assert live.get(url, headers={"Cookie": f"id={COOKIE}"}).text() == f"echo {TOKEN}"
    written = cassette.read_text()
    for secret in (TOKEN, API_KEY, COOKIE):
        assert secret not in written
    assert "private-token" not in written.lower() and "x-session-secret" not in written.lower()
    assert "etag" in written and "echo [REDACTED]" in written
    with recorder.use_cassette(str(cassette)), Fetcher(SETTINGS) as replay:
        assert replay.get(url).text() == "echo [REDACTED]"  # replays without the server
