"""Papers for the output tests, built with `harvester.schema.Paper` directly (keys set), and the
two inputs the output commands read: a JSONL stream and a database written by the sqlite sink."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import msgspec

from harvester.api import Outcome, SinkContext
from harvester.schema import Paper

from . import clirun

HARVESTED = dt.datetime(2026, 3, 14, 9, 30, tzinfo=dt.UTC)


def title_key(title: str) -> str:
    return "title:" + hashlib.sha256(title.lower().encode()).hexdigest()[:16]


def numbered(n: int, *, day: dt.date | None = dt.date(2026, 3, 1)) -> Paper:
    """Paper number `n` (deterministic): an arXiv paper, or every fifth one a title-keyed one."""
    arxiv = None if n % 5 == 4 else f"2603.{n:05d}"
    title = f"Generated Paper Number {n}"
    return Paper(
        key=f"arxiv:{arxiv}" if arxiv else title_key(title),
        arxiv_id=arxiv,
        title=title,
        abstract=f"Abstract of paper {n}.",
        authors=[f"Author{n} Surname{n}", "Second Writer"],
        upvotes=n % 17,
        listing_date=None if day is None else day + dt.timedelta(days=n % 4),
        url=f"https://huggingface.co/papers/{arxiv}" if arxiv else None,
        source="test",
        source_ref=f"gen:{n}",
        harvested_at=HARVESTED,
    )


def sample_papers() -> list[Paper]:
    """Hand-written papers covering what outputs get wrong: non-ASCII names, TeX specials,
    unknown authors, no arXiv id, no dates, an organisation."""
    return [
        Paper(
            key="arxiv:2603.01111",
            arxiv_id="2603.01111",
            title="Sheep Counting at Scale: 100% Recall & {Braces}",
            abstract="We count a great many sheep_with_underscores, for $5.",
            authors=["Zoë Müller-Łukasiewicz", "José Ñúñez", "王小明"],
            author_count=3,
            organization="Acme Research",
            published=dt.date(2026, 3, 12),
            upvotes=19,
            comments=2,
            listing_date=dt.date(2026, 3, 14),
            url="https://huggingface.co/papers/2603.01111",
            source="textdump",
            source_ref="dump.txt:3",
            harvested_at=HARVESTED,
            extra={"arxiv": {"primary_subject": "cs.CV"}},
        ),
        Paper(
            key="arxiv:2603.02222",
            arxiv_id="2603.02222",
            title="The Café Physics of Ünïcode",
            abstract=None,
            authors=[],
            author_count=4,
            organization=None,
            published=dt.date(2025, 2, 2),
            upvotes=0,
            listing_date=dt.date(2026, 3, 13),
            url="https://huggingface.co/papers/2603.02222",
            source="textdump",
            source_ref="dump.txt:20",
            harvested_at=HARVESTED,
        ),
        Paper(
            key=title_key("A Paper Without An Identifier"),
            title="A Paper Without An Identifier",
            abstract="Nothing links to it.",
            authors=["Madonna"],
            source="textdump",
            source_ref="dump.txt:30",
            harvested_at=HARVESTED,
        ),
        # Same first author surname, year and first title word as the first one: keys collide.
        Paper(
            key="arxiv:2603.03333",
            arxiv_id="2603.03333",
            title="Sheep Counting Revisited",
            authors=["Anna Müller-Łukasiewicz"],
            published=dt.date(2026, 1, 5),
            upvotes=7,
            listing_date=dt.date(2026, 3, 14),
            organization="Acme Research",
            source="hf-api",
            source_ref="https://huggingface.co/api/daily_papers?date=2026-03-14",
            harvested_at=HARVESTED,
        ),
    ]


def write_jsonl(path: Path, papers: Sequence[Paper]) -> Path:
    encoder = msgspec.json.Encoder()
    path.write_bytes(b"".join(encoder.encode(p) + b"\n" for p in papers))
    return path


def write_sqlite(path: Path, papers: Sequence[Paper]) -> Path:
    """A database written by the sqlite sink itself (its `papers` table is the contract)."""
    from harvester_plugins.sqlite import SqliteSink, SqliteSinkOptions

    sink = SqliteSink(SqliteSinkOptions(path=str(path)), SinkContext(base_dir=path.parent))
    sink.open(None)
    sink.write(list(papers))
    sink.commit()
    # Outcome.DONE works with the sink's old close(ok) too: it is a non-empty string.
    sink.close(Outcome.DONE)
    return path


EXAMPLE_DUMP = Path(__file__).resolve().parent.parent / "examples/textdump/sample-listing.txt"


def example_papers() -> list[Paper]:
    """The papers of the example run (config/example.toml): its text dump read by textdump."""
    from harvester_plugins.textdump import TextDumpSource

    from harvester.testkit import harvest, make_source

    options = {"captured_on": dt.date(2026, 3, 14)}
    found = harvest(make_source(TextDumpSource, [EXAMPLE_DUMP], options)).papers
    assert found, "the example dump yields papers"
    return [msgspec.structs.replace(p, harvested_at=HARVESTED) for p in found]


def run_harvester(*args: str | Path, check: bool = True) -> subprocess.CompletedProcess:
    """The `harvester` command of this environment, as a real subprocess."""
    env = {**os.environ}
    harvester = Path(sys.executable).with_name("harvester")
    done = clirun.run(
        [str(harvester), *map(str, args)], capture_output=True, text=True, env=env, timeout=120
    )
    if check and done.returncode != 0:
        raise AssertionError(f"harvester {args} exited {done.returncode}: {done.stderr}")
    return done
