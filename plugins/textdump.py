"""The `textdump` source: papers from text captures of huggingface.co paper listing pages.

A dump is the page's text: a header (``new``, ``Subscribe``, ``Daily Papers``, ...) ending with
the listing's date line (``Mar 14`` -> `listing_date`), then one card per paper::

     [-] 19                                          optional upvote widget ('-' = 0)
    https://huggingface.co/login?next=%2Fpapers%2FID optional: gives the arXiv id
    Title line
    Abstract paragraph (may be wrapped over several lines)
      • 3 authors  |  [ / 3 authors](…/papers/ID)  |  Org line (+ https://huggingface.co/slug)
    ·
    Sep 29 2        the published date (year only when not the page's year) + comment count
    2 / https://huggingface.co/papers/ID#community   optional comment count and its link

The meta block (last three lines) is optional. Blank lines separate paragraphs; a line of text
right before the ``·`` is the organisation line.

Yearless dates resolve against `captured_on`, the date the page was captured. When that option
is absent the file's modification date is used instead and a warning names the file; set it
explicitly for files that were copied or re-saved since the capture.

Errors: a dump that cannot be understood (not UTF-8, binary, empty, a meta line out of place)
raises `InputError` naming ``file:line``; the entries before it have been yielded. An entry whose
fields do not normalise (e.g. date ``Feb 30``), or a truncated one, becomes a `Rejected` naming
the line of its title, and parsing goes on.

Speed: the file is read in 1 MiB chunks (whole lines), each checked and decoded at once; the
per-line loop looks at the first character before any regex, and the normalisers run only on
meta lines. Memory holds one chunk and the current entry, whatever the file's size.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

from harvester.errors import InputError
from harvester.files import FileSource, FileSourceOptions
from harvester.hookspecs import hookimpl
from harvester.normalise import (
    PublishedDate,
    arxiv_id_from,
    clean_text,
    is_date_line,
    parse_author_count,
    parse_count,
    parse_organization,
    parse_published,
)
from harvester.schema import Paper, Rejected

NAME = "textdump"
CHUNK_SIZE = 1 << 20
HEADER_LINES = frozenset(
    {
        "new",
        "Get trending papers in your email inbox!",
        "Subscribe",
        "Daily Papers",
        "byAK and the research community",
    }
)
PAPER_URL = "https://huggingface.co/papers/"

# Parser states.
HEADER, PRE, TITLE, ABSTRACT, META_AUTH, META_AUTHLINK, META_DATE, AFTER_DATE = range(8)
# Line kinds (only lines starting with one of SPECIAL_FIRST are classified at all).
TEXT, DOT, AUTHORS, AUTH_OPEN, UPVOTE, LOGIN_LINK, PAPER_LINK, ORG_LINK = range(8)
SPECIAL_FIRST = frozenset("·•[h-–0123456789")
_KIND_NAMES = (
    "text",
    "'·'",
    "author count",
    "'['",
    "upvote line",
    "login link",
    "paper link",
    "organisation link",
)

# Bytes other than these are control characters: a chunk without any (but '\n') and without
# double spaces (other than the '  • N authors' indent) needs no whitespace clean-up per line.
_NOT_CONTROL = bytes(range(0x20, 0x7F)) + bytes(range(0x80, 0x100))
_BULLET_INDENT = "\n  •".encode()


TextDumpOptions = FileSourceOptions


def _cached_classify() -> Callable[[str], tuple[int, str | None]]:
    """`_classify` with a bounded cache: short meta lines ('·', '• 3 authors') repeat a lot."""
    cache: dict[str, tuple[int, str | None]] = {}

    def classify(s: str) -> tuple[int, str | None]:
        found = cache.get(s)
        if found is None:
            found = _classify(s)
            if len(s) <= 24:
                if len(cache) > 4096:
                    cache.clear()
                cache[s] = found
        return found

    return classify


def _classify(s: str) -> tuple[int, str | None]:
    """The kind of a line starting with a SPECIAL_FIRST character, and its payload."""
    c = s[0]
    if s == "·":
        return DOT, None
    if c == "•":
        return AUTHORS, None
    if c == "[":
        if s == "[":
            return AUTH_OPEN, None
        if s.startswith("[-]"):
            return UPVOTE, s[3:].strip()
        return TEXT, None
    if c == "h":
        if " " in s or not s.startswith(("https://", "http://")):
            return TEXT, None
        if "login?next=" in s or "/papers/" in s or "arxiv.org/" in s:
            paper = arxiv_id_from(s)
            if paper is not None:
                return (LOGIN_LINK if "login?next=" in s else PAPER_LINK), paper
        rest = s.split("://", 1)[1].rstrip("/")
        host, _, slug = rest.partition("/")
        if host.endswith("huggingface.co") and slug and "/" not in slug and "?" not in slug:
            return ORG_LINK, slug
        return TEXT, None  # an unrecognised link: the state decides if text is acceptable
    if "author" in s and len(s) < 200:
        try:
            parse_author_count(s)
        except ValueError:
            return TEXT, None
        return AUTHORS, None
    return TEXT, None


class _Entry:
    """The card being read: raw field text, kept until the card ends."""

    __slots__ = (
        "abstract",
        "arxiv_id",
        "authors",
        "comments",
        "date",
        "errors",
        "line",
        "org_line",
        "org_slug",
        "other",
        "title",
        "upvotes",
    )

    def __init__(self) -> None:
        self.title: str | None = None
        self.line = 0  # of the title (or of the first line, before the title is seen)
        self.abstract: list[str] = []
        self.authors: int | None = None
        self.org_line: str | None = None
        self.org_slug: str | None = None
        self.date = None
        self.comments: int | None = None
        self.upvotes: int | None = None
        self.arxiv_id: str | None = None
        self.other: list[str] = []  # meta and link lines, for a reject's raw text
        self.errors: list[str] = []

    def set_arxiv(self, paper: str | None) -> None:
        if self.arxiv_id is not None and paper != self.arxiv_id:
            self.errors.append(f"links name two papers: {self.arxiv_id} and {paper}")
        self.arxiv_id = paper

    def raw(self) -> str:
        parts = [self.title or "", *self.abstract, *self.other]
        return "\n".join(p for p in parts if p)


def _chunks(path: Path, label: str) -> Iterator[tuple[list[str], bool]]:
    """(decoded lines, needs-no-cleanup flag) per chunk; raises InputError at a bad line."""
    first_line = 1
    with path.open("rb") as f:
        first = True
        while True:
            chunk = f.read(CHUNK_SIZE)
            if not chunk:
                return
            if chunk[-1:] != b"\n":
                chunk += f.readline()  # chunks end at a line end
            if first:
                first = False
                if chunk.startswith(b"\xef\xbb\xbf"):
                    chunk = chunk[3:]
            control = chunk.translate(None, _NOT_CONTROL)
            clean = True
            if len(control) != control.count(b"\n"):
                if b"\r" in control:
                    chunk = chunk.replace(b"\r\n", b"\n")
                    control = chunk.translate(None, _NOT_CONTROL)
                clean = len(control) == control.count(b"\n")
                if b"\x00" in control:
                    bad = chunk.index(b"\x00")
                    yield from _good_prefix(chunk, bad)
                    line = first_line + chunk.count(b"\n", 0, bad)
                    raise InputError(f"{label}:{line}", "binary data (NUL byte): not a text dump")
            if clean and b"  " in chunk:
                indents = chunk.count(_BULLET_INDENT) + chunk.startswith(_BULLET_INDENT[1:])
                clean = chunk.count(b"  ") == indents
            try:
                text = chunk.decode("utf-8")
            except UnicodeDecodeError as exc:
                yield from _good_prefix(chunk, exc.start)
                line = first_line + chunk.count(b"\n", 0, exc.start)
                column = exc.start - chunk.rfind(b"\n", 0, exc.start)
                raise InputError(
                    f"{label}:{line}",
                    f"not UTF-8 text (byte 0x{chunk[exc.start]:02x} at column {column}); "
                    "save the dump as UTF-8",
                ) from None
            lines = text.split("\n")
            if lines[-1] == "":
                lines.pop()
            first_line += len(lines)
            yield lines, clean


def _good_prefix(chunk: bytes, bad: int) -> Iterator[tuple[list[str], bool]]:
    """The whole lines before offset `bad`, so entries before a bad line are still read."""
    end = chunk.rfind(b"\n", 0, bad) + 1
    if end:
        yield chunk[:end].decode("utf-8", "replace").split("\n")[:-1], False


class TextDumpSource(FileSource):
    """Papers from text dumps of HF listing pages (files or glob patterns in `inputs`)."""

    name = NAME
    trusted = True  # text fields are built through harvester.normalise.clean_text (kit-checked)
    Options = TextDumpOptions

    def read(self, target) -> Iterator[Paper | Rejected]:
        path = self.file_of(target).path
        self.open_file(target).close()  # a clear error for a missing file or a directory
        reference = self.captured_on(target)
        yield from self._parse(_chunks(path, target.id), target.id, reference)

    def _parse(
        self, chunks: Iterator[tuple[list[str], bool]], label: str, reference: dt.date
    ) -> Iterator[Paper | Rejected]:
        state = HEADER
        listing: dt.date | None = None
        e: _Entry | None = None
        held: str | None = None  # text after an abstract: next title, org line or more abstract
        held_line = 0
        held_new_par = False
        blank = False  # a blank line since the last text line
        seen_text = False
        n = 0
        dates: dict[str, PublishedDate] = {}  # date lines repeat a lot; the reference is fixed
        classify = _cached_classify()

        def fail(problem: str) -> InputError:
            return InputError(f"{label}:{n}", problem)

        for lines, fast in chunks:
            first = n + 1
            for n, line in enumerate(lines, first):
                s = line.strip()
                if not s:
                    blank = True
                    continue
                seen_text = True
                if s[0] in SPECIAL_FIRST:
                    kind, payload = classify(s)
                else:
                    kind = TEXT

                if state == ABSTRACT and held is not None:
                    if kind in (DOT, ORG_LINK):
                        assert e is not None
                        e.org_line = held
                        e.other.append(held)
                        held = None
                        if kind == ORG_LINK:
                            e.org_slug = payload
                            e.other.append(s)
                            state = META_AUTH
                        else:
                            e.other.append(s)
                            state = META_DATE
                        blank = False
                        continue
                    if held_new_par:  # the held line was the next card's title
                        yield self._record(e, label, listing)
                        e = _Entry()
                        e.title, e.line = held, held_line
                        state = TITLE
                    else:
                        e.abstract.append(held)  # type: ignore[union-attr]
                    held = None

                if state == TITLE:
                    if kind == TEXT:
                        e.abstract.append(s if fast and s.isascii() else clean_text(s))  # type: ignore[union-attr]
                        state = ABSTRACT
                        blank = False
                        continue
                    if kind == PAPER_LINK:
                        e.set_arxiv(payload)  # type: ignore[union-attr]
                        e.other.append(s)  # type: ignore[union-attr]
                        continue
                    if kind in (UPVOTE, LOGIN_LINK):
                        e.errors.append("the entry has a title but no abstract")  # type: ignore[union-attr]
                        yield self._record(e, label, listing)
                        e, state = None, PRE
                    elif kind not in (AUTHORS, AUTH_OPEN):
                        raise fail(f"unexpected {_KIND_NAMES[kind]} after a title")
                    else:
                        state = ABSTRACT  # a card without an abstract: meta comes next

                if state == ABSTRACT:
                    if kind == TEXT:
                        held = s if fast and s.isascii() else clean_text(s)
                        held_line, held_new_par = n, blank
                        blank = False
                        continue
                    assert e is not None
                    if kind == AUTHORS:
                        self._authors(e, s)
                        state = META_AUTH
                    elif kind == AUTH_OPEN:
                        e.other.append(s)
                        state = META_AUTHLINK
                    elif kind == PAPER_LINK:
                        e.set_arxiv(payload)
                        e.other.append(s)
                    elif kind in (UPVOTE, LOGIN_LINK):
                        yield self._record(e, label, listing)
                        e, state = None, PRE
                    elif kind == DOT:
                        raise fail("'·' without an author count or organisation line before it")
                    else:
                        raise fail(f"unexpected {_KIND_NAMES[kind]} after an abstract")
                    blank = False
                    if state != PRE:
                        continue

                elif state == META_DATE:
                    assert e is not None
                    if kind != TEXT or len(s) > 40:
                        raise fail(f"expected the published date after '·', found {s[:60]!r}")
                    e.other.append(s)
                    try:
                        e.date = dates.get(s)
                        if e.date is None:
                            if len(dates) > 4096:
                                dates.clear()
                            e.date = dates[s] = parse_published(s, reference)
                        e.comments = e.date.comments
                    except ValueError as exc:
                        e.errors.append(str(exc))
                    state = AFTER_DATE
                    continue

                elif state == AFTER_DATE:
                    assert e is not None
                    if s[0].isdigit() and len(s) <= 12:
                        e.other.append(s)
                        try:
                            count = parse_count(s)
                        except ValueError as exc:
                            e.errors.append(str(exc))
                            continue
                        if e.comments is not None:
                            e.errors.append(f"two comment counts: {e.comments} and {count}")
                        e.comments = count
                        continue
                    if kind == PAPER_LINK:
                        e.set_arxiv(payload)
                        e.other.append(s)
                        continue
                    yield self._record(e, label, listing)
                    e, state = None, PRE

                elif state == META_AUTH:
                    assert e is not None
                    e.other.append(s)
                    if kind == DOT:
                        state = META_DATE
                    elif kind == ORG_LINK and e.org_line is not None and e.org_slug is None:
                        e.org_slug = payload
                    else:
                        raise fail(
                            f"expected '·' after the author count or organisation line, "
                            f"found {s[:60]!r}"
                        )
                    continue

                elif state == META_AUTHLINK:
                    assert e is not None
                    if kind != AUTHORS:
                        raise fail(f"expected 'N authors](…)' after '[', found {s[:60]!r}")
                    self._authors(e, s)
                    if "](" in s:
                        e.set_arxiv(arxiv_id_from(s.rsplit("](", 1)[1]))
                    state = META_AUTH
                    continue

                elif state == HEADER:
                    if s in HEADER_LINES:
                        continue
                    state = PRE
                    if listing is None and is_date_line(s):
                        try:
                            listing = parse_published(s, reference).date
                        except ValueError as exc:
                            raise fail(f"bad listing date: {exc}") from None
                        continue

                # PRE: the start of a card (upvotes and links come before its title).
                if e is None:
                    e = _Entry()
                    e.line = n
                if kind == TEXT:
                    if is_date_line(s):
                        raise fail(f"a date line {s!r} where a title was expected")
                    e.title, e.line = (s if fast and s.isascii() else clean_text(s)), n
                    state = TITLE
                elif kind == UPVOTE:
                    e.other.append(s)
                    if e.upvotes is not None:
                        raise fail("two upvote lines before one title")
                    try:
                        e.upvotes = parse_count(payload or "")
                    except ValueError as exc:
                        e.errors.append(f"upvotes: {exc}")
                        e.upvotes = 0
                elif kind in (LOGIN_LINK, PAPER_LINK):
                    e.other.append(s)
                    e.set_arxiv(payload)
                else:
                    raise fail(f"unexpected {_KIND_NAMES[kind]} where a card should start")
                blank = False

        # End of file: the last card must not vanish, whatever state it is in.
        if not seen_text:
            raise InputError(f"{label}:1", "empty file: no text in it")
        if held is not None:
            assert e is not None
            if held_new_par:
                yield self._record(e, label, listing)
                e = _Entry()
                e.title, e.line = held, held_line
                state = TITLE
            else:
                e.abstract.append(held)
        if e is None:
            return
        if state == TITLE:
            e.errors.append("truncated entry: a title with no abstract at the end of the file")
        elif state == PRE:
            e.errors.append("truncated entry: card lines but no title at the end of the file")
        elif state in (META_AUTH, META_AUTHLINK, META_DATE):
            e.errors.append("truncated entry: the meta block ends before its date")
        yield self._record(e, label, listing)

    @staticmethod
    def _authors(e: _Entry, s: str) -> None:
        e.other.append(s)
        try:
            e.authors = parse_author_count(s)
        except ValueError as exc:
            e.errors.append(str(exc))

    def _record(self, e: _Entry, label: str, listing: dt.date | None) -> Paper | Rejected:
        ref = f"{label}:{e.line}"
        if e.errors or e.title is None:
            reason = "; ".join(e.errors) or "no title"
            return Rejected(reason=reason, source=NAME, source_ref=ref, raw=e.raw())
        text = " ".join(e.abstract) or None  # the pieces are clean already
        organization = None
        if e.org_line is not None:
            try:
                organization = parse_organization(e.org_line, e.org_slug)
            except ValueError as exc:
                return Rejected(reason=str(exc), source=NAME, source_ref=ref, raw=e.raw())
        date = e.date
        paper = e.arxiv_id
        return Paper(
            arxiv_id=paper,
            title=e.title,
            abstract=text,
            author_count=e.authors,
            organization=organization,
            published=date.date if date else None,
            published_raw=date.raw if date else None,
            published_inferred=date.inferred if date else False,
            upvotes=e.upvotes,
            comments=e.comments,
            listing_date=listing,
            url=PAPER_URL + paper if paper else None,
            source=NAME,
            source_ref=ref,
        )


@hookimpl
def register_sources(register) -> None:
    register(TextDumpSource)
