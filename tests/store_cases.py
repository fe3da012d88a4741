"""Papers for the database-sink tests (sqlite and postgres share them), and the merge-rule cases
both dialects must agree on with the Python statement in `harvester_plugins.store.rules`."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from harvester.normalise import title_key
from harvester.schema import Paper
from tests import papers

T0 = dt.datetime(2024, 2, 1, 12, 0, tzinfo=dt.UTC)
TITLE = "Scaling Laws for Sparse Mixtures"


def make_paper(i: int, **fields: Any) -> Paper:
    """`tests.papers.make_paper`, stamped with the fixed harvest time `T0`."""
    return papers.make_paper(i, **{"harvested_at": T0, **fields})


def dump_record(title: str = TITLE, **fields: Any) -> Paper:
    """What a text dump yields: no arXiv id, no authors, title-keyed."""
    values = dict(
        key=title_key(title),
        title=title,
        organization="Dump Org",
        upvotes=3,
        source="textdump",
        source_ref="dump.txt:1",
        harvested_at=T0,
    )
    return Paper(**{**values, **fields})


def listing_record(arxiv_id: str, title: str = TITLE, **fields: Any) -> Paper:
    """What a listing page / the API yields: arXiv id, authors, no organization."""
    values = dict(
        key=f"arxiv:{arxiv_id}",
        arxiv_id=arxiv_id,
        title=title,
        authors=["A. Author", "B. Author"],
        abstract=f"Abstract of {title}",
        upvotes=10,
        listing_date=dt.date(2025, 1, 2),
        source="hf-api",
        source_ref="https://x/2025-01-02",
        harvested_at=T0,
    )
    return Paper(**{**values, **fields})


def later(hours: int) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def hf_record(i: int, **fields: Any) -> Paper:
    """Paper `i` as a Hugging Face source gives it: its counts, organisation and submitter, and
    its own copy of the authors and abstract."""
    values = dict(
        authors=["HF Author"], abstract="HF's summary.", upvotes=40 + i, comments=2,
        organization="hf-org", submitted_by="hf-user", source="hf-api",
    )  # fmt: skip
    return make_paper(i, **{**values, **fields})


def arxiv_record(i: int, *, version: int | None, **fields: Any) -> Paper:
    """Paper `i` as an arXiv source gives it: no counts, organisation or submitter."""
    values = dict(
        authors=["A. Arxiv", "B. Arxiv"], author_count=2, abstract=f"arXiv abstract v{version}.",
        categories=["cs.CL", "cs.LG"], arxiv_version=version, upvotes=None, comments=None,
        organization=None, submitted_by=None, source="arxiv-listing", harvested_at=later(1),
    )  # fmt: skip
    return make_paper(i, **{**values, **fields})


# Pairs (stored record, newer record) of one key: each rule with its edge cases.
MERGE_CASES: dict[str, tuple[Paper, Paper]] = {
    "newer values win, nulls never erase": (
        make_paper(1),
        make_paper(1, abstract=None, organization=None, upvotes=77, comments=None),
    ),
    "empty authors are unknown": (make_paper(2), make_paper(2, authors=[])),
    "new authors replace": (make_paper(3), make_paper(3, authors=["Only One"])),
    "extra merge patch, nested": (
        make_paper(4, extra={"hf": {"stars": 1, "org": "x"}, "old": True}),
        make_paper(4, extra={"hf": {"stars": 2, "gone": None}, "new": [1]}),
    ),
    "empty extra keeps": (make_paper(5, extra={"a": 1}), make_paper(5, extra={})),
    "published_inferred follows published": (
        make_paper(6, published_inferred=True),
        make_paper(6, published=None, published_inferred=False),
    ),
    "published_inferred moves with a new published": (
        make_paper(8, published_inferred=True),
        make_paper(8, published=dt.date(2023, 5, 5), published_inferred=False),
    ),
    "provenance moves together, listing days widen": (
        make_paper(7, listing_date=dt.date(2024, 3, 9), source_ref="a.txt:1"),
        make_paper(
            7, listing_date=None, source="other", source_ref="b.txt:9", harvested_at=later(5)
        ),
    ),
    "an earlier listing day": (
        make_paper(9, listing_date=dt.date(2024, 3, 9)),
        make_paper(9, listing_date=dt.date(2024, 1, 9), source_ref="c:1"),
    ),
    # One paper from HF and arXiv: each led field from its family (rules.LEADS), either order.
    "HF then arXiv: arXiv's authors, abstract, categories; HF's counts stay": (
        hf_record(10),
        arxiv_record(10, version=1),
    ),
    "arXiv then HF: HF's upvotes and submitter, arXiv's authors and abstract stay": (
        arxiv_record(11, version=2),
        hf_record(11, harvested_at=later(3)),
    ),
    "a newer arXiv version updates the arXiv fields": (
        arxiv_record(12, version=1),
        arxiv_record(12, version=2, abstract="The v2 abstract.", doi="10.1000/v2"),
    ),
    "an older arXiv version never downgrades": (
        arxiv_record(13, version=3, abstract="The v3 abstract.", doi="10.1000/v3"),
        arxiv_record(13, version=1, abstract="The v1 abstract.", authors=["V. One"]),
    ),
    "an arXiv record without an abstract keeps HF's": (
        hf_record(14),
        arxiv_record(14, version=None, abstract=None, categories=None),
    ),
}

# Pairs (arXiv record, title-keyed record of the same title) for rule 2's gap filling.
ABSORB_CASES: dict[str, tuple[Paper, Paper]] = {
    "gaps filled, values kept": (
        listing_record("2501.00001", abstract=None, upvotes=None, extra={"hf": {"a": 1}}),
        dump_record(abstract="From the dump", comments=4, extra={"hf": {"a": 9, "b": 2}}),
    ),
    "listing days widen": (
        listing_record("2501.00002", listing_date=dt.date(2025, 1, 5)),
        dump_record(listing_date=dt.date(2024, 12, 30), source_ref="dump.txt:7"),
    ),
}


def decoded(row: dict[str, Any]) -> dict[str, Any]:
    """A row read from either database in the Python statement's terms: JSON decoded, dates
    and times ISO text, booleans bool; the database-assigned columns dropped."""
    out = {}
    for name, value in row.items():
        if name in ("id", "search"):
            continue
        if isinstance(value, (dict, list)):
            value = msgspec.json.decode(msgspec.json.encode(value))
        elif name in ("authors", "extra", "categories") and isinstance(value, str):
            value = msgspec.json.decode(value)
        elif isinstance(value, dt.datetime):
            value = value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        elif isinstance(value, dt.date):
            value = value.isoformat()
        elif name == "published_inferred":
            value = bool(value)
        out[name] = value
    return out


def sightings_of_one_paper():
    """A hypothesis strategy: 1-4 records of one paper with random gaps, lists, extras, days
    and times (the merge rules' inputs)."""
    from hypothesis import strategies as st

    maybe = st.none() | st.integers(0, 5)
    extra = st.dictionaries(
        st.sampled_from(["hf", "test", "x"]),
        st.none() | st.integers(0, 3) | st.dictionaries(st.sampled_from("ab"), st.integers(0, 3)),
        max_size=2,
    )
    record = st.fixed_dictionaries(
        {
            "abstract": st.none() | st.sampled_from(["one", "two"]),
            "authors": st.sampled_from([[], ["A"], ["A", "B"]]),
            "upvotes": maybe,
            "comments": maybe,
            "published": st.none() | st.dates(dt.date(2024, 1, 1), dt.date(2024, 1, 9)),
            "published_inferred": st.booleans(),
            "listing_date": st.none() | st.dates(dt.date(2024, 2, 1), dt.date(2024, 2, 9)),
            "source_ref": st.sampled_from(["a:1", "b:2"]),
            "source": st.sampled_from(["hf-api", "textdump", "arxiv-listing", "arxiv-api"]),
            "arxiv_version": st.none() | st.integers(1, 3),
            "categories": st.none() | st.sampled_from([["cs.CL"], ["cs.LG", "cs.CL"]]),
            "doi": st.none() | st.sampled_from(["10.1/a", "10.1/b"]),
            "organization": st.none() | st.sampled_from(["org-a", "org-b"]),
            "harvested_at": st.integers(0, 5).map(later),
            "extra": extra,
        }
    )
    return st.lists(record, min_size=1, max_size=4)


def dump_and_listing_batches():
    """A hypothesis strategy: batches of dump and listing records over three titles and three
    arXiv ids (two ids may share a title: the ambiguous case), for the title matching."""
    from hypothesis import strategies as st

    record = st.tuples(
        st.sampled_from(["dump", "listing"]),
        st.integers(0, 2),  # which title
        st.integers(0, 2),  # which arXiv id (listings)
        st.none() | st.integers(0, 9),  # upvotes
        st.integers(0, 3),  # hours after T0
    )
    return st.lists(st.lists(record, min_size=1, max_size=4), min_size=1, max_size=4)


def make_batches(spec, n: int) -> list[list[Paper]]:
    """The records a `dump_and_listing_batches` example stands for; titles start with
    `p<n>` and arXiv ids with n (unique per example) so that examples sharing a database
    never meet."""
    prefix = f"p{n}"
    batches = []
    for batch in spec:
        papers = []
        for kind, title_no, arxiv_no, upvotes, hours in batch:
            title = f"{prefix} shared title {title_no}"
            extra = dict(upvotes=upvotes, harvested_at=later(hours))
            if kind == "dump":
                papers.append(dump_record(title, source_ref=f"dump:{title_no}", **extra))
            else:
                arxiv_id = f"{n % 9000 + 1000:04d}.{arxiv_no:05d}"
                papers.append(listing_record(arxiv_id, title, **extra))
        batches.append(papers)
    return batches
