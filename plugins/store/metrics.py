"""Metric history (issue 13): the counts that change (upvotes, comments, GitHub stars), kept as a
series of observations per paper and source.

Table ``observations (key, source, observed_at, seq, upvotes, comments, github_stars)``, primary
key ``(key, source, observed_at, seq)``; ``observed_at`` is the record's ``harvested_at`` as ISO
8601 UTC text, ``seq`` numbers the points of one ``observed_at`` (0, then 1, ...: two runs within
one second, or a paper seen twice in one run with other counts), ``github_stars`` is
``extra.hf.github_stars``. View ``latest_observations``: the newest observation of each (key,
source), by ``observed_at`` then ``seq``. The latest point of a paper holds its row's counts.

* A record whose three counts are all null, or that has no ``harvested_at``, observes nothing.
* A point is added only when its values differ (null-aware) from the observation just before
  it in time for that key and source; a re-read that changes nothing adds nothing.
* Idempotent: values already stored at the same ``observed_at`` are not stored again, so
  replaying a batch (a resumed run keeps its ``harvested_at``) never adds a duplicate point;
  other values at that ``observed_at`` are a new point with the next ``seq``, never dropped.
* When a title-keyed row is re-keyed or absorbed into an arXiv row, its observations move
  with it (a point the arXiv row already has at the same time wins).
"""

from __future__ import annotations

from typing import Any

from harvester.schema import Paper

METRICS = ("upvotes", "comments", "github_stars")
OBSERVATION_COLUMNS = ("key", "source", "observed_at", "seq", *METRICS)


def github_stars(paper: Paper) -> int | None:
    hf = paper.extra.get("hf") if isinstance(paper.extra, dict) else None
    stars = hf.get("github_stars") if isinstance(hf, dict) else None
    return stars if isinstance(stars, int) and not isinstance(stars, bool) else None


def observation(paper: Paper, key: str, observed_at: str | None) -> tuple[Any, ...] | None:
    """The observation a paper carries, under the row key it was merged into, or None:
    (key, source, observed_at, *METRICS), its ``seq`` given where it is stored.
    `observed_at`: its ``harvested_at`` as ISO UTC text (the row has it already)."""
    if observed_at is None:
        return None
    values = (paper.upvotes, paper.comments, github_stars(paper))
    if values == (None, None, None):
        return None
    return (key, paper.source, observed_at, *values)


# Both dialects: the newest point of each (key, source), by observed_at then seq.
LATEST_OBSERVATIONS = (
    "CREATE VIEW latest_observations AS SELECT "
    + ", ".join(f"o.{c}" for c in OBSERVATION_COLUMNS)
    + " FROM observations AS o WHERE NOT EXISTS (SELECT 1 FROM observations AS n "
    "WHERE n.key = o.key AND n.source = o.source AND (n.observed_at > o.observed_at "
    "OR (n.observed_at = o.observed_at AND n.seq > o.seq)))"
)
