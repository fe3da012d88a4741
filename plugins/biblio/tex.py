"""Plain text (titles, notes, names) as BibTeX field text.

* TeX's special characters are escaped. BibTeX counts every brace, escaped or not, so an
  unbalanced ``\\}`` would end its field early and the entry would lose the fields after it:
  braces that pair up are written ``\\{``/``\\}`` (every reader decodes them), and when they
  do not pair up all of them are ``\\textbraceleft{}``/``\\textbraceright{}`` (LaTeX prints
  them; no raw brace is left to count).
* Math stays math: a ``$...$`` span that pylatexenc parses as one well-formed math group is
  written as it is (``$\\mathcal{O}(n)$``); a lone or broken ``$`` is text (``\\$``).
* Capitals are protected: a word with a capital after its first letter (an acronym "LLM", a
  name "ImageNet", "R&D", "GPT-4o") is wrapped in braces, so a style that lower-cases titles
  leaves it alone. Title-case words are not: whether "Scaling" is a proper noun cannot be
  told, and protecting it would stop every sentence-case style.
"""

from __future__ import annotations

import re

_SPECIALS = {
    "\\": r"\textbackslash{}",
    "%": r"\%",
    "&": r"\&",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
_PAIRED = str.maketrans({**_SPECIALS, "{": r"\{", "}": r"\}"})
_UNPAIRED = str.maketrans({**_SPECIALS, "{": r"\textbraceleft{}", "}": r"\textbraceright{}"})
_MATH = re.compile(r"(?<!\\)\$[^$]+(?<!\\)\$")
_WORD = re.compile(r"\S+")


def escape(text: str) -> str:
    """Plain text with TeX's specials escaped (no math, no case protection)."""
    return text.translate(_PAIRED if paired(text) else _UNPAIRED)


def paired(text: str) -> bool:
    """Whether the braces of `text` pair up (never more closed than opened, all closed)."""
    depth = 0
    for c in text:
        depth += (c == "{") - (c == "}")
        if depth < 0:
            return False
    return depth == 0


def is_math(span: str) -> bool:
    """Whether `span` ("$...$") is one well-formed math group."""
    from pylatexenc.latexwalker import LatexMathNode, LatexWalker, LatexWalkerError

    try:
        nodes, _, length = LatexWalker(span, tolerant_parsing=False).get_latex_nodes()
    except LatexWalkerError:
        return False
    return len(nodes) == 1 and isinstance(nodes[0], LatexMathNode) and length == len(span)


def title(text: str) -> str:
    """A title as a BibTeX field: math kept, the rest escaped, capitals protected."""
    spans, at = [], 0  # (is math, text)
    for match in _MATH.finditer(text):
        if is_math(match[0]):
            spans += [(False, text[at : match.start()]), (True, match[0])]
            at = match.end()
    spans.append((False, text[at:]))
    table = _PAIRED if paired("".join(t for math, t in spans if not math)) else _UNPAIRED
    return "".join(t if math else _protected(t, table) for math, t in spans)


def _protected(text: str, table: dict[int, str]) -> str:
    return _WORD.sub(lambda m: _protect_word(m[0], table), text)


def _protect_word(word: str, table: dict[int, str]) -> str:
    escaped = word.translate(table)
    if not any(c.isupper() for c in word[1:]) or "{" in word or "}" in word:
        return escaped  # a word with braces of its own: a group around it could cross them
    # A group starting with a command is a "special character" to BibTeX's case changing,
    # which lower-cases inside it: a second pair of braces makes it plain protected text.
    return "{{" + escaped + "}}" if escaped.startswith("\\") else "{" + escaped + "}"
