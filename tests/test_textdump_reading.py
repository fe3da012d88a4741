"""textdump.reading: bytes -> numbered lines, checked, streamed, with the line-length cap."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
from harvester_plugins.textdump.reading import RAW_LIMIT, Chunk, LongLine, read_lines

from harvester.errors import InputError


def chunks(path: Path, **sizes) -> list[Chunk]:
    with path.open("rb") as f:
        return list(read_lines(f, path.name, **sizes))


def numbered(found: list[Chunk]) -> list[tuple[int, str]]:
    """(line number, line) of every line, long lines as their size."""
    out = []
    for chunk in found:
        out += [(chunk.first + i, line) for i, line in enumerate(chunk.lines)]
        if chunk.long_line is not None:
            out.append((chunk.long_line.number, f"<{chunk.long_line.size} bytes>"))
    return out


@pytest.mark.parametrize("chunk_size", [3, 7, 64, 1 << 20])
def test_lines_are_numbered_the_same_whatever_the_chunk_size(tmp_path, chunk_size):
    path = tmp_path / "dump.txt"
    text = "first\n\nthird line, a longer one\n·\nlast line without a line end"
    path.write_text(text, encoding="utf-8")
    expected = list(enumerate(text.split("\n"), 1))
    assert numbered(chunks(path, chunk_size=chunk_size)) == expected


def test_bom_and_crlf_are_dropped(tmp_path):
    path = tmp_path / "dump.txt"
    path.write_bytes(b"\xef\xbb\xbfMar 14\r\n\r\nTitle\r\nAbstract.\r\n")
    (chunk,) = chunks(path)
    assert chunk.lines == ["Mar 14", "", "Title", "Abstract."]


def test_plain_flag_says_whether_a_chunk_has_control_characters(tmp_path):
    clean, dirty = tmp_path / "clean.txt", tmp_path / "dirty.txt"
    clean.write_bytes("Café ·\r\nline\n".encode())
    dirty.write_bytes(b"tab\there\n")
    assert chunks(clean)[0].plain is True  # CRLF is a line end, not a control character
    assert chunks(dirty)[0].plain is False


@pytest.mark.parametrize("content", [b"", b"\xef\xbb\xbf"])
def test_empty_file_has_no_chunks(tmp_path, content):
    path = tmp_path / "empty.txt"
    path.write_bytes(content)
    assert chunks(path) == []


def test_a_line_that_is_not_utf8_is_flagged_with_its_byte_and_column_and_reading_goes_on(
    tmp_path,
):
    """Issue 20: one bad byte is one bad entry, not a failed file."""
    path = tmp_path / "latin1.txt"
    path.write_bytes("Mar 14\nFirst Title\nCafé Title\nmore\n".encode("latin-1"))
    found = chunks(path)
    assert numbered(found) == [
        (1, "Mar 14"),
        (2, "First Title"),
        (3, "Caf\ufffd Title"),
        (4, "more"),
    ]
    bad = {n: why for chunk in found for n, why in (chunk.bad or {}).items()}
    assert bad == {
        3: "line 3: not UTF-8 text (byte 0xe9 at column 4); the entry holding it is rejected: "
        "save the dump as UTF-8"
    }
    assert not any(chunk.plain for chunk in found if chunk.bad)


def test_a_bad_byte_in_a_later_chunk_names_its_own_line(tmp_path):
    path = tmp_path / "late.txt"
    path.write_bytes(b"ok line\n" * 10 + b"bad \xff byte\n" + b"ok line\n")
    found = chunks(path, chunk_size=16)
    bad = {n: why for chunk in found for n, why in (chunk.bad or {}).items()}
    assert list(bad) == [11] and "column 5" in bad[11]
    assert [n for n, _ in numbered(found)] == list(range(1, 13))


def test_nul_byte_means_binary_data(tmp_path):
    path = tmp_path / "junk.bin"
    path.write_bytes(b"text\nmore text\nbin\x00ary\n")
    with pytest.raises(InputError, match=r"junk\.bin:3: binary data \(NUL byte\): not a text dump"):
        chunks(path)


def test_long_line_is_cut_reported_and_the_lines_after_it_are_read(tmp_path):
    path = tmp_path / "long.txt"
    long_line = "é" * 3000  # 6000 bytes
    path.write_text(f"before\n{long_line}\nafter\nend\n", encoding="utf-8")
    found = chunks(path, max_line=1000)
    assert numbered(found) == [(1, "before"), (2, "<6000 bytes>"), (3, "after"), (4, "end")]
    (long,) = [c.long_line for c in found if c.long_line is not None]
    assert long == LongLine(2, 6000, long.head)
    assert long.head == "é" * 500  # what was read of it: here max_line bytes, not a cut 'é'


def test_long_line_head_is_at_most_raw_limit(tmp_path):
    path = tmp_path / "long.txt"
    path.write_bytes(b"a" * 20_000 + b"\n")
    (chunk,) = chunks(path, max_line=10_000)
    assert chunk.long_line is not None
    assert chunk.long_line.head == "a" * RAW_LIMIT and chunk.long_line.size == 20_000


@pytest.mark.parametrize("max_line", [5, 6])
def test_line_at_the_limit_is_kept_one_over_is_cut(tmp_path, max_line):
    path = tmp_path / "edge.txt"
    path.write_bytes(b"12345\nabcdef\nxyz")
    lines = numbered(chunks(path, max_line=max_line))
    kept = "abcdef" if max_line == 6 else "<6 bytes>"
    assert lines == [(1, "12345"), (2, kept), (3, "xyz")]


def test_long_last_line_without_line_end(tmp_path):
    path = tmp_path / "tail.txt"
    path.write_bytes(b"one\n" + b"x" * 50)
    assert numbered(chunks(path, max_line=20)) == [(1, "one"), (2, "<50 bytes>")]


def test_long_line_with_a_nul_byte_is_binary(tmp_path):
    path = tmp_path / "blob.txt"
    path.write_bytes(b"fine\n" + b"\x00" * 100 + b"\n")
    got = []
    with pytest.raises(InputError, match=r"blob\.txt:2: binary data"), path.open("rb") as f:
        got.extend(read_lines(f, "blob.txt", max_line=10))
    assert numbered(got) == [(1, "fine")]


def test_an_over_long_line_is_never_held_in_memory(tmp_path):
    """Issue 14: a 200 MB line used 416-604 MB. Here a 40 MB line is read through with a peak
    of Python allocations far below its size (the cap is 1 MiB)."""
    path = tmp_path / "huge.txt"
    with path.open("wb") as f:
        f.write(b"Mar 14\n")
        block = b"word " * 200_000  # 1 MB
        for _ in range(40):
            f.write(block)
        f.write(b"\nafter\n")
    tracemalloc.start()
    try:
        found = chunks(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert numbered(found) == [(1, "Mar 14"), (2, "<40000000 bytes>"), (3, "after")]
    assert peak < 8 << 20, peak  # a few chunk-sized buffers, not the line
