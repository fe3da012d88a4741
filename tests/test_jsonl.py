"""harvester.jsonl (the crash-safe writer) and the jsonl sink's output contract."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import msgspec
import pytest
from harvester_plugins.jsonl_sink import JsonlSink

from harvester.api import Outcome, SinkContext
from harvester.errors import SinkError
from harvester.jsonl import JsonlWriter, partial_path
from harvester.schema import FIELDS, Paper, Rejected
from tests.papers import make_paper, tricky_papers


def read_jsonl(path, type=Paper):
    """(line number, record) per line, decoded as `type`."""
    decoder = msgspec.json.Decoder(type)
    with open(path, "rb") as f:
        return [(n, decoder.decode(line)) for n, line in enumerate(f, 1) if line.strip()]


def parse_options(cls, raw):
    return msgspec.convert(raw, cls)


def RunContext(base_dir):
    return SinkContext(base_dir=base_dir)


# -- encoding --------------------------------------------------------------------------------


def test_lines_are_exactly_msgspec_encoded_structs(tmp_path):
    items = [*tricky_papers(), Rejected(reason="no title", source="t", source_ref="f.txt:3")]
    with JsonlWriter(tmp_path / "out.jsonl") as writer:
        writer.write(items)
    data = (tmp_path / "out.jsonl").read_bytes()
    assert data == b"".join(msgspec.json.encode(item) + b"\n" for item in items)
    assert data.decode("utf-8").count("\n") == len(items)  # newlines in strings are escaped


def test_jsonl_sink_writes_every_field_nulls_included(tmp_path):
    sink = JsonlSink(parse_options(JsonlSink.Options, {"path": "p.jsonl"}), RunContext(tmp_path))
    sink.open()
    sink.write(tricky_papers())
    sink.close(Outcome.DONE)
    # split on "\n" only: U+2028 inside a string is valid JSON, and str.splitlines splits on it
    lines = (tmp_path / "p.jsonl").read_text(encoding="utf-8").split("\n")[:-1]
    records = [json.loads(line) for line in lines]
    assert all(list(r) == list(FIELDS) for r in records)
    assert records[1]["abstract"] is None and records[1]["published"] is None
    assert records[0]["published"] == "2024-01-02"
    assert records[0]["harvested_at"] == "2024-02-01T12:30:01Z"


def test_mode_option_is_checked():
    with pytest.raises(msgspec.ValidationError, match="mode"):
        parse_options(JsonlSink.Options, {"path": "x", "mode": "overwrite"})


def test_buffer_larger_than_the_flush_size(tmp_path):
    papers = [make_paper(i, abstract="y" * 2000) for i in range(1500)]  # > 3 MiB
    with JsonlWriter(tmp_path / "big.jsonl") as writer:
        writer.write(papers)
    assert [p for _, p in read_jsonl(tmp_path / "big.jsonl", Paper)] == papers


# -- replace mode ----------------------------------------------------------------------------


def test_replace_publishes_only_at_close(tmp_path):
    target = tmp_path / "p.jsonl"
    target.write_text('{"old": true}\n')
    writer = JsonlWriter(target)
    writer.open()
    writer.write([make_paper(1)])
    writer.commit()
    assert target.read_text() == '{"old": true}\n'  # committed, yet not published
    assert partial_path(target).exists()
    writer.close()
    assert [p for _, p in read_jsonl(target, Paper)] == [make_paper(1)]
    assert not partial_path(target).exists()


def test_replace_abandoned_keeps_old_file_and_removes_partial(tmp_path):
    target = tmp_path / "p.jsonl"
    target.write_text('{"old": true}\n')
    writer = JsonlWriter(target)
    writer.open()
    writer.write([make_paper(1)])
    writer.commit()
    writer.close(Outcome.ABANDON)
    assert target.read_text() == '{"old": true}\n'
    assert not partial_path(target).exists()


def test_replace_starts_a_stale_partial_over(tmp_path):
    target = tmp_path / "p.jsonl"
    partial_path(target).write_text('{"left": "by a killed run"}\n{"half')
    with JsonlWriter(target) as writer:
        writer.write([make_paper(2)])
    assert target.read_bytes() == msgspec.json.encode(make_paper(2)) + b"\n"


def test_replace_onto_a_directory_is_a_sink_error(tmp_path):
    target = tmp_path / "p.jsonl"
    target.mkdir()
    writer = JsonlWriter(target)
    writer.open()
    writer.write([make_paper(1)])
    with pytest.raises(SinkError, match=r"p\.jsonl"):
        writer.close()
    assert not partial_path(target).exists()


def test_write_before_open_is_a_sink_error(tmp_path):
    with pytest.raises(SinkError, match="before open"):
        JsonlWriter(tmp_path / "p.jsonl").write([make_paper(1)])


# -- append mode -----------------------------------------------------------------------------


def _line(i: int) -> bytes:
    return msgspec.json.encode(make_paper(i)) + b"\n"


def test_append_adds_to_the_file_and_tracks_committed_offset(tmp_path):
    target = tmp_path / "p.jsonl"
    target.write_bytes(_line(0))
    writer = JsonlWriter(target, mode="append")
    writer.open()
    assert writer.committed_offset == len(_line(0))
    writer.write([make_paper(1)])
    writer.commit()
    assert writer.committed_offset == len(_line(0) + _line(1))
    writer.close()
    assert target.read_bytes() == _line(0) + _line(1)


def test_append_cuts_a_partial_last_line_on_open(tmp_path):
    target = tmp_path / "p.jsonl"
    target.write_bytes(_line(0) + _line(1)[:25])  # what a crash mid-line leaves
    writer = JsonlWriter(target, mode="append")
    writer.open()
    writer.write([make_paper(2)])
    writer.close()
    assert target.read_bytes() == _line(0) + _line(2)


def test_append_cuts_a_file_that_is_all_partial(tmp_path):
    target = tmp_path / "p.jsonl"
    target.write_bytes(b'{"title": "no newline yet')
    writer = JsonlWriter(target, mode="append")
    writer.open()
    writer.close()
    assert target.read_bytes() == b""


def test_append_truncates_to_a_checkpoint(tmp_path):
    target = tmp_path / "p.jsonl"
    target.write_bytes(_line(0) + _line(1) + _line(2))
    writer = JsonlWriter(target, mode="append")
    writer.open(truncate_to=len(_line(0)))
    writer.write([make_paper(5)])
    writer.close()
    assert target.read_bytes() == _line(0) + _line(5)


def test_append_checkpoint_beyond_the_file_is_a_sink_error(tmp_path):
    target = tmp_path / "p.jsonl"
    target.write_bytes(_line(0))
    writer = JsonlWriter(target, mode="append")
    with pytest.raises(SinkError, match="beyond"):
        writer.open(truncate_to=10_000)


def test_append_suspended_keeps_what_was_committed(tmp_path):
    target = tmp_path / "p.jsonl"
    target.write_bytes(_line(0))
    writer = JsonlWriter(target, mode="append")
    writer.open()
    writer.write([make_paper(1)])
    writer.commit()
    writer.write([make_paper(i, abstract="z" * 3000) for i in range(2, 500)])  # > flush size
    writer.close(Outcome.SUSPEND)
    assert target.read_bytes() == _line(0) + _line(1)


def test_append_abandoned_goes_back_to_the_file_as_it_was(tmp_path):
    target = tmp_path / "p.jsonl"
    target.write_bytes(_line(0))
    writer = JsonlWriter(target, mode="append")
    writer.open()
    writer.write([make_paper(1)])
    writer.commit()
    writer.write([make_paper(2)])
    writer.close(Outcome.ABANDON)
    assert target.read_bytes() == _line(0)


def test_append_sink_adds_runs(tmp_path):
    opts = parse_options(JsonlSink.Options, {"path": "p.jsonl", "mode": "append"})
    for i in range(2):
        sink = JsonlSink(opts, RunContext(tmp_path))
        sink.open()
        sink.write([make_paper(i)])
        offset = len(b"".join(_line(j) for j in range(i + 1)))
        assert sink.commit() == {"mode": "append", "offset": offset}
        sink.close(Outcome.DONE)
    assert (tmp_path / "p.jsonl").read_bytes() == _line(0) + _line(1)


# -- crash safety: a real writer process killed with SIGKILL ---------------------------------

# The child writes generation after generation of 3000 records (all tagged with the generation),
# printing "done G" after each close; the parent kills it mid-write.
WRITER = textwrap.dedent(
    """
    import sys
    from harvester.jsonl import JsonlWriter
    from harvester.schema import Paper
    target, mode = sys.argv[1], sys.argv[2]
    pad = "x" * 400
    generation = 0
    while True:
        generation += 1
        writer = JsonlWriter(target, mode=mode)
        writer.open()
        for batch in range(30):
            writer.write(
                Paper(key=f"k{generation}-{batch}-{i}", title=f"gen {generation}",
                      abstract=pad, source="crash", source_ref=f"{generation}")
                for i in range(100)
            )
            if mode == "append":
                writer.commit()
                print("committed", writer.committed_offset, flush=True)
        writer.close()
        print("done", generation, flush=True)
    """
)
RECORDS_PER_GENERATION = 3000


def _start_writer(tmp_path: Path, target: Path, mode: str) -> subprocess.Popen:
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}
    return subprocess.Popen(
        [sys.executable, str(script), str(target), mode],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


def _kill_after(proc: subprocess.Popen, lines: int, spin: float = 0.0) -> list[list[str]]:
    """Read `lines` progress lines, busy-wait `spin` seconds, then SIGKILL the writer."""
    seen = []
    try:
        for _ in range(lines):
            line = proc.stdout.readline()
            assert line, "writer exited early"
            seen.append(line.split())
        deadline = time.monotonic() + spin  # vary where in the next write the kill lands
        while time.monotonic() < deadline:
            pass
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        proc.stdout.close()
    return seen


def _generation_of(target: Path) -> int:
    """The file is one complete generation, or the test fails."""
    papers = [p for _, p in read_jsonl(target, Paper)]
    generations = {p.source_ref for p in papers}
    assert len(papers) == RECORDS_PER_GENERATION, f"truncated file: {len(papers)} records"
    assert len(generations) == 1, f"mixed generations {generations}"
    assert target.read_bytes().endswith(b"\n")
    return int(generations.pop())


@pytest.mark.parametrize("spin", [0, 1, 2, 3, 5])
def test_sigkill_in_replace_mode_leaves_old_or_new_complete_file(tmp_path, spin):
    target = tmp_path / "papers.jsonl"
    with JsonlWriter(target) as writer:  # the previous good run: generation 0
        writer.write(
            Paper(key=f"g0-{i}", title="gen 0", abstract="x" * 400, source="crash", source_ref="0")
            for i in range(RECORDS_PER_GENERATION)
        )
    proc = _start_writer(tmp_path, target, "replace")
    done = _kill_after(proc, spin, spin * 0.013)
    last_done = int(done[-1][1]) if done else 0
    assert _generation_of(target) >= last_done
    # the next run starts over cleanly despite the leftover .partial
    with JsonlWriter(target) as writer:
        writer.write([make_paper(1)])
    assert [p for _, p in read_jsonl(target, Paper)] == [make_paper(1)]


@pytest.mark.parametrize("commits", [1, 7, 25])
def test_sigkill_in_append_mode_keeps_every_commit_and_cuts_the_tail(tmp_path, commits):
    target = tmp_path / "papers.jsonl"
    proc = _start_writer(tmp_path, target, "append")
    seen = _kill_after(proc, commits)
    committed = max(int(offset) for word, offset in seen if word == "committed")
    writer = JsonlWriter(target, mode="append")
    writer.open()
    writer.close()
    data = target.read_bytes()
    assert len(data) >= committed  # nothing committed is lost
    assert data.endswith(b"\n")
    assert len(list(read_jsonl(target, Paper))) == data.count(b"\n")  # every line whole


# -- suspend and resume (the run state keeps `checkpoint_token()`) ---------------------------


@pytest.mark.parametrize("mode", ["replace", "append"])
def test_suspended_run_resumes_from_its_checkpoint(tmp_path, mode):
    target = tmp_path / "p.jsonl"
    target.write_bytes(_line(99))  # the previous good output
    opts = parse_options(JsonlSink.Options, {"path": "p.jsonl", "mode": mode})
    sink = JsonlSink(opts, RunContext(tmp_path))
    sink.open()
    sink.write([make_paper(1)])
    token = sink.commit()
    sink.write([make_paper(2)])  # never committed: dropped
    sink.close(Outcome.SUSPEND)
    assert target.read_bytes() == _line(99) + (_line(1) if mode == "append" else b"")

    resumed = JsonlSink(opts, RunContext(tmp_path))
    resumed.open(resume=token)
    resumed.write([make_paper(3)])
    resumed.close(Outcome.DONE)
    before = _line(99) if mode == "append" else b""
    assert target.read_bytes() == before + _line(1) + _line(3)
    assert not partial_path(target).exists()


def test_resume_token_of_another_mode_is_a_sink_error(tmp_path):
    opts = parse_options(JsonlSink.Options, {"path": "p.jsonl", "mode": "append"})
    with pytest.raises(SinkError, match="cannot resume"):
        JsonlSink(opts, RunContext(tmp_path)).open(resume={"mode": "replace", "offset": 0})
