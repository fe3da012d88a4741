"""Source `arxiv-oai`: OAI-PMH `ListRecords` for sets and a range of datestamps, following the
resumption tokens, complete by the list's own `completeListSize`.

One target per set and per `days_per_target` days of the range (a record's datestamp is the
day its metadata last changed, not its announcement). Each target declares its list's
`completeListSize` as its total. After each page the target remembers its resumption token and
how many entries came before it (`Target.remember`): a target cut short (a page that could not
be fetched) ends `incomplete`, its records are published (`publish_incomplete`: each record is
whole), and the next run that reads it starts at the token, declaring what is left.

OAI-PMH errors: `noRecordsMatch` is `empty` (the repository says so); `badResumptionToken` (an
expired token) restarts the range when the token came from an earlier run, and cuts the target
short mid-harvest; any other error fails the target with its code and message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Annotated, Literal

import msgspec

from harvester import hookimpl
from harvester.api import Source, SourceOptions, Target
from harvester.checks import SourceCheck
from harvester.errors import InputError, TargetError
from harvester.schema import Paper, Rejected

from . import urls
from .oai import Answer, parse_answer

OaiSet = Annotated[str, msgspec.Meta(pattern=urls.OAI_SET_PATTERN)]
BaseUrl = Annotated[str, msgspec.Meta(pattern=urls.BASE_URL_PATTERN)]


class OaiOptions(SourceOptions, kw_only=True, forbid_unknown_fields=True):
    from_date: dt.date  # the first datestamp, included
    until_date: dt.date | None = None  # the last, included; defaults to from_date
    sets: list[OaiSet] = msgspec.field(default_factory=list)  # [] : the whole of arXiv
    metadata_prefix: Literal["arXivRaw", "arXiv", "oai_dc"] = "arXivRaw"
    days_per_target: Annotated[int, msgspec.Meta(ge=1)] = 1
    base_url: BaseUrl = urls.OAI_BASE
    max_pages: Annotated[int, msgspec.Meta(ge=1)] = 10_000  # a guard per target

    def __post_init__(self) -> None:
        if self.until_date is not None and self.until_date < self.from_date:
            raise ValueError(f"until_date {self.until_date} is before from_date {self.from_date}")
        if self.inputs:
            raise ValueError("arxiv-oai reads from_date..until_date, not inputs")

    def ranges(self) -> list[tuple[dt.date, dt.date]]:
        last, step = self.until_date or self.from_date, dt.timedelta(self.days_per_target)
        found, start = [], self.from_date
        while start <= last:
            found.append((start, min(last, start + step - dt.timedelta(1))))
            start += step
        return found


class ArxivOai(Source):
    name = "arxiv-oai"
    Options = OaiOptions
    options: OaiOptions
    trusted = True  # every text goes through clean_text (records.arxiv_paper)
    publish_incomplete = True  # each record read is whole; the rest follows from the token
    # `harvester check arxiv-oai`: a ListRecords answer, served by the check at `site/oai`
    check = SourceCheck(
        fixtures=["check/oai-day"],
        cut=["check/oai-cut"],
        site=lambda site: {"base_url": f"{site}/oai", "from_date": "2026-10-07"},
        bad_options=[{"days_per_target": 0}, {"metadata_prefix": "marc"}],
        declares_totals=True,
    )

    def targets(self) -> list[Target]:
        o = self.options
        found = []
        every: list[OaiSet | None] = [None]  # no set: the whole of arXiv
        for oai_set in o.sets or every:
            for first, last in o.ranges():
                params = {
                    "metadataPrefix": o.metadata_prefix,
                    "from": first.isoformat(),
                    "until": last.isoformat(),
                }
                if oai_set:
                    params["set"] = oai_set
                found.append(Target(urls.oai_url(o.base_url, **params), date=last))
        return found

    def read(self, target: Target) -> Iterator[Paper | Rejected]:
        token = target.memo.get("token") or None
        counted = target.memo.get("read", "0")
        if token and not counted.isdigit():  # a memo of another version: start the range again
            self.context.log.warning(
                "%s: the remembered state is unreadable; restarting", target.id
            )
            token = None
        before = int(counted) if token else 0
        url = self.token_url(token) if token else target.id
        read, pages = before, 0
        while pages < self.options.max_pages:
            answer = self.answer(target, url, pages, token)
            if answer is None:
                return
            if answer.error is not None:
                if not self.on_error(target, answer.error, resumed=bool(token), pages=pages):
                    return
                url, token, read, before = target.id, None, 0, 0  # restart the range
                continue
            if answer.complete_size is not None:
                target.declare(total=answer.complete_size - before)
            for entry in answer.entries:
                read += 1
                yield entry
            pages += 1
            token = answer.token
            target.remember(token=token or "", read=str(read))
            if not token:
                return
            url = self.token_url(token)
        target.cut_short(f"stopped after max_pages={self.options.max_pages}", resume=True)

    def token_url(self, token: str) -> str:
        return urls.oai_url(self.options.base_url, resumptionToken=token)

    def answer(self, target: Target, url: str, pages: int, token: str | None) -> Answer | None:
        """The answer at `url`; None when the harvest is cut short there (a page after the
        first could not be fetched: the token stays remembered)."""
        try:
            content = self.context.get(url).content
        except TargetError as exc:
            if pages == 0 and not token:
                raise
            target.cut_short(
                f"{url} could not be read ({exc.problem}); resumes at the token", resume=True
            )
            return None
        return parse_answer(content, url, self.options.metadata_prefix)

    def on_error(self, target: Target, error: tuple[str, str], *, resumed: bool, pages: int):
        """Deal with an OAI-PMH error answer; True: restart the range from its beginning."""
        code, message = error
        if code == "noRecordsMatch" and pages == 0 and not resumed:
            target.mark_empty(f"OAI-PMH noRecordsMatch: {message}")
            return False
        if code == "badResumptionToken" and resumed and pages == 0:
            self.context.log.warning(
                "%s: the remembered resumption token was refused (%s); restarting the range",
                target.id,
                message,
            )
            target.remember(token="", read="0")
            return True
        if code == "badResumptionToken":
            target.remember(token="", read="0")  # the next run starts the range again
            target.cut_short(f"OAI-PMH badResumptionToken mid-harvest: {message}", resume=True)
            return False
        raise InputError(target.id, f"OAI-PMH error {code}: {message}")


@hookimpl
def register_sources(register) -> None:
    register(ArxivOai)
