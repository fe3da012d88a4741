"""The rule for one paper seen on Hugging Face and on arXiv (`store.rules.LEADS`), as the Python
statement gives it: each field from the family that knows it best, in whichever order the
records come, a newer arXiv version updating the row and an older one never downgrading it.
(The database sinks are checked against this statement in test_sqlite_sink/test_postgres_sink;
whole runs into both databases in test_arxiv_merge.)"""

from __future__ import annotations

import pytest
from harvester_plugins.store import rules
from harvester_plugins.store.replay import replay

from tests.store_cases import arxiv_record, hf_record
from tests.test_sqlite_sink import as_row

ARXIV_FIELDS = ("authors", "author_count", "abstract", "categories", "doi", "arxiv_version")
HF_FIELDS = ("upvotes", "comments", "organization", "submitted_by")


def merged(*papers):
    row = as_row(papers[0])
    for paper in papers[1:]:
        row = rules.merged(row, as_row(paper))
    return row


@pytest.mark.parametrize("hf_first", [True, False], ids=["HF first", "arXiv first"])
def test_each_field_comes_from_the_family_that_leads_it_whatever_the_order(hf_first):
    hf, arxiv = hf_record(1), arxiv_record(1, version=2, doi="10.1000/x")
    row = merged(hf, arxiv) if hf_first else merged(arxiv, hf)
    expected_arxiv, expected_hf = as_row(arxiv), as_row(hf)
    assert {f: row[f] for f in ARXIV_FIELDS} == {f: expected_arxiv[f] for f in ARXIV_FIELDS}
    assert {f: row[f] for f in HF_FIELDS} == {f: expected_hf[f] for f in HF_FIELDS}
    assert row["from_lead"] == sum(rules.LEAD_BITS.values())  # every led field from its leader


def test_a_newer_version_updates_and_an_older_one_never_downgrades():
    v1 = arxiv_record(2, version=1, doi=None)
    v2 = arxiv_record(2, version=2, abstract="Revised.", authors=["New Author"], doi="10.1/v2")
    row = merged(hf_record(2), v1, v2)
    assert (row["arxiv_version"], row["abstract"], row["doi"]) == (2, "Revised.", "10.1/v2")
    again = rules.merged(row, as_row(v1))  # v1 read again later (an old listing page)
    assert (again["arxiv_version"], again["abstract"], again["authors"]) == (
        2,
        "Revised.",
        ["New Author"],
    )
    assert again["upvotes"] == hf_record(2).upvotes  # HF's counts untouched throughout


def test_an_arxiv_record_lacking_a_field_leaves_the_hf_value():
    row = merged(hf_record(3), arxiv_record(3, version=None, abstract=None, authors=[]))
    assert row["abstract"] == "HF's summary." and row["authors"] == ["HF Author"]
    # and the next arXiv record that has them takes over
    row = rules.merged(row, as_row(arxiv_record(3, version=1)))
    assert row["abstract"] == "arXiv abstract v1." and row["authors"] == ["A. Arxiv", "B. Arxiv"]


def test_a_record_log_is_replayed_by_the_same_rule():
    """JSONL and Parquet record logs (`replay`) give what a database row holds."""
    records = [
        arxiv_record(4, version=2),
        hf_record(4, harvested_at=arxiv_record(4, version=2).harvested_at),
    ]
    (paper,) = replay([records]).papers()
    row = merged(*records)
    assert paper.abstract == row["abstract"] == "arXiv abstract v2."
    assert paper.upvotes == row["upvotes"] == hf_record(4).upvotes
    assert paper.categories == ["cs.CL", "cs.LG"] and paper.arxiv_version == 2
