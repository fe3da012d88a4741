"""The pieces a card is assembled from: paragraphs of text (`Item`) and the card (`Card`)."""

from __future__ import annotations

from .reading import RAW_LIMIT
from .shapes import (
    TITLE_MAX,
    join_wrapped,
    org_shaped,
    title_shaped,
)

ITEM_MAX = 64 << 10  # characters: a longer paragraph is not a title or an abstract
RAW_PARTS = 64  # lines and paragraphs of a card kept for a reject's `raw`


def line_end(raw: str) -> int:
    """A line's length as the file has it, negative when it ends in a space or tab."""
    return -len(raw) if raw[-1] in " \t" else len(raw)


class Item:
    """A paragraph: lines that wrap into one another. Its role (title, abstract, organisation
    line) is decided once the paragraph after it is known (see `cards`)."""

    __slots__ = (
        "bad",
        "ends",
        "error",
        "line",
        "lines",
        "org_like",
        "plain",
        "size",
        "soft",
        "text",
        "title_like",
        "width",
        "wrap_width",
    )

    def __init__(self, line: int, first: str, plain: bool, soft: bool = False, raw: str = ""):
        self.line = line  # the number of its first line
        self.lines = [first]
        self.plain = plain  # read from plain chunks only (see reading.Chunk)
        self.size = self.width = len(first)  # width: its longest line
        self.soft = soft  # split from the paragraph before only by shape: may join it again
        self.error: str | None = None  # why it can be no title or abstract
        self.bad: str | None = None  # a line of it holds bytes that are not text: why
        # each line's length as the file has it, negative when it ended in a space (where a
        # tool like `fold -s` broke it): where a wrapping tool cut a token (see join_wrapped)
        self.ends: list[int] | str = raw or first  # the first line, until a second comes
        self.wrap_width = 0  # its longest line holding a space: the column it is wrapped at

    def add(self, line: str, raw: str = "") -> None:
        if self.size < ITEM_MAX:
            lines = self.lines
            if len(lines) == 1:  # a second line: keep the lines' ends from now on
                first = self.ends
                assert isinstance(first, str)
                self.ends = [line_end(first)]
                if " " in lines[0]:
                    self.wrap_width = len(first)
            lines.append(line)
            end = line_end(raw or line)
            ends = self.ends
            assert not isinstance(ends, str)  # a list from the second line on
            if raw[:1] == " " and raw[1:2] != " ":  # `fold -s` broke the line before at a space
                ends[-1] = -abs(ends[-1])
            ends.append(end)
            self.size += len(line) + 1
            if len(line) > self.width:
                self.width = len(line)
            if abs(end) > self.wrap_width and " " in line:
                self.wrap_width = abs(end)
        elif self.error is None:
            self.error = f"a paragraph of over {ITEM_MAX:,} characters: not a title or abstract"

    def finish(self, wrap_width: int = 0) -> None:
        """Join its lines and decide its shape, when the paragraph ends (a one-line abstract,
        the most common paragraph, is settled by `cards.Assembler._close_item` itself).
        `wrap_width`: the column the file is wrapped at, as far as it is known."""
        lines = self.lines
        if len(lines) == 1:
            self.text = text = lines[0]
            if len(text) > TITLE_MAX or self.error is not None:  # the common abstract
                self.title_like = self.org_like = False
            else:
                self.title_like = title_shaped(text)
                self.org_like = org_shaped(text)
        else:
            width = max(wrap_width, self.wrap_width)
            self.text = text = join_wrapped(lines, width, self.ends)  # type: ignore[arg-type]
            self.title_like = self.error is None and title_shaped(text, len(lines))
            self.org_like = False


class Card:
    """One listing entry as read so far: the raw text of its fields, until the card ends.

    Fields most cards never set are class-level defaults (read through the class until a
    card sets its own): a card costs only its few lists to create."""

    title: str | None = None
    title_line = 0
    title_tail: Item | None = None  # the title's last paragraph
    abstract_tail: Item | None = None  # the abstract's last paragraph
    upvotes: str | None = None  # the widget's text ('12', '-')
    login = False  # a login link (the upvote widget's) was seen
    paper: str | None = None  # the arXiv id its links name
    links = 0  # paper links seen (a plain-text export shows two: title, abstract)
    markdown = False
    plain = True  # its title and abstract came from plain chunks only
    authors: int | None = None
    org: str | None = None
    org_slug: str | None = None
    date_text: str | None = None
    counts: tuple[str, ...] = ()  # comment counts shown after the date
    community = False  # the comment count's '#community' link was seen
    submitted_by: str | None = None  # the 'Submitted by' badge's name
    layout: str | None = None  # the layout its structure shows (see records.LAYOUTS)
    dot_first = False  # '·' came before the author count (the 2024 daily cards)
    orphan = False  # no structure, in a listing whose cards show theirs
    extra: dict[str, str] | None = None  # what a layout shows besides the record's fields

    def __init__(self, first: int):
        self.first = first  # the number of its first line
        self.abstract: list[str] = []
        self.errors: list[str] = []
        self.raw: list[str | Item] = []

    def keep(self, part: str | Item) -> None:
        """Keep a line or paragraph of the card for a reject's `raw` (a bounded number)."""
        if len(self.raw) < RAW_PARTS:
            self.raw.append(part)

    def set_paper(self, paper: str | None) -> None:
        if paper is None:
            return
        if self.paper is not None and paper != self.paper:
            self.errors.append(f"its links name two papers: {self.paper} and {paper}")
        self.paper = paper

    def raw_text(self) -> str:
        """The card's lines as read, cut to about RAW_LIMIT characters."""
        lines: list[str] = []
        size = 0
        for part in self.raw:
            for line in part.lines if isinstance(part, Item) else (part,):
                lines.append(line)
                size += len(line) + 1
                if size > RAW_LIMIT:
                    return "\n".join(lines)[:RAW_LIMIT] + " … [cut]"
        return "\n".join(lines)
