"""arXiv's OAI-PMH `ListRecords` answers -> papers, deletions, errors and the resumption token.

Parsed with defusedxml: no entity expansion and no DTD at all (an answer carrying one is an
`InputError`), whatever the network sends. The three formats arXiv serves:

* `arXivRaw` (the default): every version with its date and size (`extra.arxiv.versions`; the
  latest is `arxiv_version`, the first's date `published`), the author line as submitted (split
  into names here), categories (the primary first), comments, journal-ref, DOIs;
* `arXiv`: authors as parts (forenames, keyname, suffix), `created`/`updated` dates, no version
  numbers (`arxiv_version` null, `extra.arxiv.version_unknown` says so);
* `oai_dc`: Dublin Core: titles, creators, dates, descriptions; subjects are names, not codes,
  so `categories` is null.

A record whose header says `status="deleted"` becomes a `Rejected` entry naming it: it counts
towards `completeListSize` and is not a paper.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from harvester.errors import InputError
from harvester.normalise import clean_text, parse_arxiv_id
from harvester.schema import Paper, Rejected

from .records import arxiv_paper, split_dois

OAI = "{http://www.openarchives.org/OAI/2.0/}"
RAW = "{http://arxiv.org/OAI/arXivRaw/}"
ARXIV = "{http://arxiv.org/OAI/arXiv/}"
DC = "{http://purl.org/dc/elements/1.1/}"
OAI_DC = "{http://www.openarchives.org/OAI/2.0/oai_dc/}"
PREFIXES = ("arXivRaw", "arXiv", "oai_dc")
_PAREN = re.compile(r"\([^()]*\)")
_AND = re.compile(r",?\s+and\s+|;", re.IGNORECASE)
_SUFFIX = re.compile(r"^(Jr|Sr|I{2,3}|IV)\.?$")
_ET_AL = re.compile(r"^et\.? al\.?$", re.IGNORECASE)


@dataclass
class Answer:
    """One ListRecords answer: its entries in order, and how the list goes on."""

    entries: list[Paper | Rejected] = field(default_factory=list)
    token: str | None = None  # the resumptionToken; None (or "") on the last page
    complete_size: int | None = None  # completeListSize: the whole list, every page
    error: tuple[str, str] | None = None  # (code, message) of an OAI-PMH error answer


def parse_answer(content: bytes, where: str, prefix: str) -> Answer:
    """A ListRecords answer; `InputError` naming `where` when it is not OAI-PMH XML."""
    root = _xml(content, where)
    if root.tag != f"{OAI}OAI-PMH":
        raise InputError(where, f"not an OAI-PMH answer (its root is <{root.tag}>)")
    error = root.find(f"{OAI}error")
    if error is not None:
        return Answer(error=(error.get("code") or "", clean_text(error.text) or ""))
    listed = root.find(f"{OAI}ListRecords")
    if listed is None:
        raise InputError(where, "an OAI-PMH answer without ListRecords or an error")
    answer = Answer()
    for record in listed.iterfind(f"{OAI}record"):
        answer.entries.append(_entry(record, where, prefix))
    token = listed.find(f"{OAI}resumptionToken")
    if token is not None:
        answer.token = (token.text or "").strip() or None
        size = token.get("completeListSize")
        answer.complete_size = int(size) if size and size.isdigit() else None
    return answer


def _xml(content: bytes, where: str) -> ET.Element:
    try:
        return SafeET.fromstring(content, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise InputError(where, f"refused XML ({type(exc).__name__}: {exc})") from None
    except ET.ParseError as exc:
        raise InputError(where, f"not XML: {exc}") from None


def _entry(record: ET.Element, where: str, prefix: str) -> Paper | Rejected:
    header = record.find(f"{OAI}header")
    identifier = _text(header, f"{OAI}identifier") if header is not None else None
    ref = f"{where}#{identifier or 'record'}"
    if header is not None and header.get("status") == "deleted":
        stamp = _text(header, f"{OAI}datestamp")
        return Rejected(
            reason=f"deleted at arXiv (OAI-PMH, datestamp {stamp})", source_ref=ref, raw=identifier
        )
    metadata = record.find(f"{OAI}metadata")
    raw = ET.tostring(record, encoding="unicode")[:2000]
    body = metadata[0] if metadata is not None and len(metadata) else None
    reader = {"arXivRaw": _raw, "arXiv": _arxiv, "oai_dc": _dc}[prefix]
    try:
        paper = reader(body, ref) if body is not None else None
    except ValueError as exc:
        return Rejected(reason=str(exc), source_ref=ref, raw=raw)
    if paper is None:
        return Rejected(reason=f"a record without {prefix} metadata", source_ref=ref, raw=raw)
    paper.extra.setdefault("arxiv", {})["datestamp"] = _text(header, f"{OAI}datestamp")
    return paper


def _text(node: ET.Element | None, path: str) -> str | None:
    found = node.find(path) if node is not None else None
    return clean_text(found.text) if found is not None else None


def _texts(node: ET.Element, path: str) -> list[str]:
    return [t for n in node.iterfind(path) if (t := clean_text(n.text))]


def _arxiv_id(node: ET.Element, ns: str) -> str:
    arxiv_id = parse_arxiv_id(_text(node, f"{ns}id"))
    if arxiv_id is None:
        raise ValueError(f"a record without an arXiv id ({_text(node, f'{ns}id')!r})")
    return arxiv_id


def _title(node: ET.Element, path: str) -> str:
    title = _text(node, path)
    if title is None:
        raise ValueError("a record without a title")
    return title


def _raw(node: ET.Element, ref: str) -> Paper:
    versions: list[dict[str, Any]] = []
    for v in node.iterfind(f"{RAW}version"):
        number = (v.get("version") or "").lstrip("v")
        date = _text(v, f"{RAW}date")
        versions.append(
            {
                "version": int(number) if number.isdigit() else None,
                "date": _iso_time(date),
                "size": _text(v, f"{RAW}size"),
            }
        )
    numbers = [v["version"] for v in versions if v["version"] is not None]
    first_date = _text(node.find(f"{RAW}version"), f"{RAW}date") if versions else None
    authors, not_whole = split_authors(_text(node, f"{RAW}authors"))
    return arxiv_paper(
        arxiv_id=_arxiv_id(node, RAW),
        version=max(numbers) if numbers else None,
        title=_title(node, f"{RAW}title"),
        source_ref=ref,
        authors=[] if not_whole else authors,
        abstract=_text(node, f"{RAW}abstract"),
        categories=(_text(node, f"{RAW}categories") or "").split(),
        dois=split_dois(_text(node, f"{RAW}doi")),
        published=_day(first_date),
        published_raw=first_date,
        extra={
            "versions": versions,
            "submitter": _text(node, f"{RAW}submitter"),
            "authors_shown": authors if not_whole else None,
            "authors_not_whole": not_whole,
            **_shared(node, RAW),
        },
    )


def _arxiv(node: ET.Element, ref: str) -> Paper:
    authors = []
    for a in node.iterfind(f"{ARXIV}authors/{ARXIV}author"):
        parts = [
            _text(a, f"{ARXIV}forenames"),
            _text(a, f"{ARXIV}keyname"),
            _text(a, f"{ARXIV}suffix"),
        ]
        authors.append(" ".join(p for p in parts if p))
    created = _text(node, f"{ARXIV}created")
    return arxiv_paper(
        arxiv_id=_arxiv_id(node, ARXIV),
        title=_title(node, f"{ARXIV}title"),
        source_ref=ref,
        authors=authors,
        abstract=_text(node, f"{ARXIV}abstract"),
        categories=(_text(node, f"{ARXIV}categories") or "").split(),
        dois=split_dois(_text(node, f"{ARXIV}doi")),
        published=_day(created),
        published_raw=created,
        extra={
            "updated": _text(node, f"{ARXIV}updated"),
            "version_unknown": "the arXiv metadata format carries no version number",
            **_shared(node, ARXIV),
        },
    )


def _dc(node: ET.Element, ref: str) -> Paper:
    identifiers = _texts(node, f"{DC}identifier")
    arxiv_id = next((i for i in map(parse_arxiv_id, _ids(identifiers)) if i), None)
    if arxiv_id is None:
        raise ValueError(f"a Dublin Core record without an arXiv id ({identifiers})")
    dates = _texts(node, f"{DC}date")
    descriptions = _texts(node, f"{DC}description")
    return arxiv_paper(
        arxiv_id=arxiv_id,
        title=_title(node, f"{DC}title"),
        source_ref=ref,
        authors=_texts(node, f"{DC}creator"),  # "Keyname, Forenames", as arXiv writes them
        abstract=descriptions[0] if descriptions else None,
        published=_day(dates[0]) if dates else None,
        published_raw=dates[0] if dates else None,
        extra={
            "dates": dates,
            "subjects": _texts(node, f"{DC}subject"),
            "version_unknown": "Dublin Core carries no version number",
        },
    )


def _ids(identifiers: list[str]) -> Iterator[str]:
    for text in identifiers:
        yield text.rsplit("/abs/", 1)[-1]


def _shared(node: ET.Element, ns: str) -> dict[str, str | None]:
    """The fields arXivRaw and arXiv share, for `extra.arxiv`."""
    return {
        "comment": _text(node, f"{ns}comments"),
        "journal_ref": _text(node, f"{ns}journal-ref"),
        "report_no": _text(node, f"{ns}report-no"),
        "msc_class": _text(node, f"{ns}msc-class"),
        "acm_class": _text(node, f"{ns}acm-class"),
        "license": _text(node, f"{ns}license"),
    }


def split_authors(line: str | None) -> tuple[list[str], str | None]:
    """An arXivRaw author line as names: affiliations in parentheses dropped, split at commas,
    semicolons and 'and'; 'Jr.' joins the name before it. The second value says why the list
    is not whole ("et al."), else None."""
    text = line or ""
    while _PAREN.search(text):
        text = _PAREN.sub(" ", text)
    names: list[str] = []
    not_whole = None
    for part in (p.strip() for p in _AND.sub(",", text).split(",")):
        if not part:
            continue
        if _ET_AL.match(part):
            not_whole = "the author line ends with 'et al.'"
        elif _SUFFIX.match(part) and names:
            names[-1] = f"{names[-1]} {part}"
        else:
            names.append(part)
    return names, not_whole


def _iso_time(text: str | None) -> str | None:
    """'Tue, 3 Apr 2007 22:04:11 GMT' -> '2007-04-03T22:04:11Z' (None when unreadable)."""
    try:
        moment = email.utils.parsedate_to_datetime(text) if text else None
    except (TypeError, ValueError):
        return None
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment.isoformat() + "Z"


def _day(text: str | None) -> dt.date | None:
    """The date of '2014-12-29', '2007-04-03T22:04:11Z' or 'Tue, 3 Apr 2007 22:04:11 GMT'."""
    if not text:
        return None
    iso = text if text[:1].isdigit() else _iso_time(text)
    try:
        return dt.date.fromisoformat(iso[:10]) if iso else None
    except ValueError:
        return None
