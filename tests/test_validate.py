"""`harvester validate FILE.jsonl`, run as a real program: every line checked, failures named."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from harvester.schema import SCHEMA_VERSION, Paper

from . import clirun

HARVESTER = [sys.executable, "-m", "harvester.cli"]
NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def _paper(n: int, **changes) -> Paper:
    fields = dict(
        key=f"arxiv:2603.{n:05d}",
        arxiv_id=f"2603.{n:05d}",
        title=f"Paper {n}",
        authors=["Ada Example"],
        author_count=1,
        published=dt.date(2026, 2, 28),
        source="textdump",
        source_ref=f"dump.txt:{n}",
        harvested_at=NOW,
        extra={"note": n},
    )
    return Paper(**{**fields, **changes})


def _lines(n: int) -> list[str]:
    return [msgspec.json.encode(_paper(i)).decode() for i in range(1, n + 1)]


def _validate(path: Path) -> subprocess.CompletedProcess[str]:
    return clirun.run(
        [*HARVESTER, "validate", str(path)], capture_output=True, text=True, timeout=60
    )


def _break(line: str, **changes) -> str:
    """A record with fields changed or (value ...) removed, the way a hand edit breaks it."""
    obj = json.loads(line)
    for name, value in changes.items():
        if value is ...:
            del obj[name]
        else:
            obj[name] = value
    return json.dumps(obj)


def _reported(path: Path, stderr: str) -> dict[int, list[str]]:
    """line number -> the fields named on its one report line (`file:N: f: msg; g: msg`)."""
    row = re.compile(rf"^{re.escape(str(path))}:(\d+): (.*)$", re.MULTILINE)
    return {
        int(number): [part.split(": ", 1)[0] for part in rest.split("; ")]
        for number, rest in row.findall(stderr)
    }


def test_a_good_file_exits_0(tmp_path):
    good = tmp_path / "papers.jsonl"
    good.write_text("\n".join(_lines(5)) + "\n", encoding="utf-8")
    result = _validate(good)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{good}: ok, 5 records"  # success goes to stdout
    assert result.stderr == ""


def test_hand_broken_lines_are_reported_by_line_and_field_and_exit_1(tmp_path):
    lines = _lines(8)
    lines[1] = _break(lines[1], title="")  # line 2: empty title
    lines[3] = _break(lines[3], upvotes=-3)  # line 4: negative count
    lines[4] = _break(lines[4], published="28 Feb 2026")  # line 5: not an ISO date
    lines[5] = _break(lines[5], source_ref=...)  # line 6: missing field
    lines[6] = lines[6][: len(lines[6]) // 2]  # line 7: truncated (a crash, an editor)
    bad = tmp_path / "papers.jsonl"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = _validate(bad)

    assert result.returncode == 1
    reported = _reported(bad, result.stderr)
    assert set(reported) == {2, 4, 5, 6, 7}, result.stderr
    assert "title" in reported[2]
    assert "upvotes" in reported[4]
    assert "published" in reported[5]
    assert "source_ref" in reported[6]
    assert reported[7] == ["-"]  # the line as a whole is not JSON
    assert all(len(f) == len(set(f)) for f in reported.values())  # each field listed once
    assert f"{bad}: 5 invalid lines of 8" in result.stderr  # lines, not problems


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ('{"title": "x"}', "key"),  # most fields missing
        ("[1, 2]", "-"),
        (_break(_lines(1)[0], surprise=1), "surprise"),
        (_break(_lines(1)[0], schema_version="2.0"), "schema_version"),
        (_break(_lines(1)[0], authors="Ada Example"), "authors"),
    ],
)
def test_each_kind_of_break_names_its_field(tmp_path, line, field):
    path = tmp_path / "one.jsonl"
    path.write_text(_lines(1)[0] + "\n" + line + "\n", encoding="utf-8")
    result = _validate(path)
    assert result.returncode == 1
    reported = _reported(path, result.stderr)
    assert list(reported) == [2] and field in reported[2], result.stderr


def test_records_carry_the_schema_version():
    assert json.loads(_lines(1)[0])["schema_version"] == SCHEMA_VERSION
