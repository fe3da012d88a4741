"""Synthetic benchmark inputs, all generated here (invented text; nothing copied from the seeds).

* `write_textdump(path, target_bytes)`: a text dump in the listing-dump format (a page header,
  then entries: title, blank, abstract, blank, and on most entries an author-count line, a `·`
  line and a display date, each block separated by a blank line).
* `sink_papers(count, batch)`: batches of distinct, finalised `Paper` records, built from a small
  pool so generating a million costs little memory and time.
* `listing_page(cards, embed_json)` / `write_site(dir, pages, cards)`: Hugging Face listing pages
  from `tests/fixtures/hf_site.py`, the generator the hf tests use (current layout: a card
  weighs ~9 KB, desktop and mobile renderings, as on the real site).
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"

_WORDS = str.split(
    "learning model models neural network networks training data language large reward "
    "policy reinforcement optimisation gradient attention transformer diffusion sparse "
    "latent graph agents memory retrieval reasoning alignment robust efficient scalable "
    "continual offline online preference feedback human token vision speech multimodal "
    "benchmark evaluation representation generalisation inference distillation compression "
    "adaptive stochastic theoretical empirical we propose show that our method outperforms "
    "baselines on across tasks with without under over the a of in for and to by from is are "
    "this these results"
)
_TITLE_WORDS = str.split(
    "Sparse Latent Recursive Contrastive Token Agents Diffusion Graph Retrieval Reasoning "
    "Alignment Curriculum Vision Speech Memory Tiny Scaling Robust Offline Policy Reward "
    "Learning Models Dynamics Transformers Networks Efficient Continual Preference "
    "Optimization"
)
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
HEADER = (
    "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\nDaily Papers\n\n"
    "byAK and the research community\n\nMar 14\n\n"
)


def entry(rng: random.Random, n: int, *, lose_titles: bool = True) -> str:
    title = " ".join(rng.sample(_TITLE_WORDS, rng.randint(3, 8))) + f" {n}"
    if lose_titles and rng.random() < 0.005:
        title = ""  # a dump sometimes loses a title: the source must reject, not drop, it
    words = rng.choices(_WORDS, k=rng.randint(120, 260))
    words[0] = words[0].capitalize()
    abstract = " ".join(words) + "."
    text = f"{title}\n\n{abstract}\n\n"
    if rng.random() < 0.5:  # the upvote widget's login link carries the arXiv id
        paper_id = f"{24 + n % 2}{1 + n % 12:02d}.{n % 100000:05d}"
        text = f"https://huggingface.co/login?next=%2Fpapers%2F{paper_id}\n{text}"
    if rng.random() < 0.6:
        date = f"{rng.choice(_MONTHS)} {rng.randint(1, 28)}"
        if rng.random() < 0.4:
            date += f", {rng.randint(2015, 2025)}"
        if rng.random() < 0.2:
            date += f" {rng.randint(1, 40)}"  # a comment count after the date
        text += f"  \u2022 {rng.randint(1, 20)} authors\n\u00b7\n{date}\n\n"
    return text


def write_textdump(path: Path, target_bytes: int, *, seed: int = 5) -> tuple[int, int]:
    """Write a dump of at least `target_bytes`; returns (bytes, entries)."""
    rng = random.Random(seed)
    size = entries = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.write(HEADER)
        size += len(HEADER.encode())
        while size < target_bytes:
            chunk = "".join(entry(rng, entries + i) for i in range(500))
            out.write(chunk)
            size += len(chunk.encode())
            entries += 500
    return size, entries


def repeat_file(src: Path, dst: Path, times: int) -> int:
    """`dst` = `src` concatenated `times` times (the 10x dump for the memory-flatness check)."""
    with open(dst, "wb") as out:
        for _ in range(times):
            with open(src, "rb") as inp:
                while block := inp.read(1 << 22):
                    out.write(block)
    return dst.stat().st_size


def sink_papers(
    count: int, batch: int, *, pool_size: int = 2000, shift_hours: int = 0
) -> Iterator[list]:
    """`count` distinct finalised papers (~1.5 KB of JSON each), in lists of `batch`;
    `shift_hours`: harvested that much later (the same records re-read)."""
    import msgspec

    from harvester.schema import Paper

    rng = random.Random(11)
    now = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC) + dt.timedelta(hours=shift_hours)
    pool = []
    for i in range(pool_size):
        words = rng.choices(_WORDS, k=rng.randint(120, 200))
        pool.append(
            Paper(
                title=" ".join(rng.sample(_TITLE_WORDS, 5)),
                abstract=" ".join(words).capitalize() + ".",
                authors=[f"Author {rng.randint(1, 999)} Name{j}" for j in range(rng.randint(1, 8))],
                author_count=None,
                published=dt.date(2025, 1 + i % 12, 1 + i % 28),
                published_raw=f"{_MONTHS[i % 12]} {1 + i % 28}",
                upvotes=rng.randint(0, 300),
                url=None,
                source="bench",
                source_ref=f"bench.txt:{i}",
                harvested_at=now,
                extra={"bench": {"n": i}},
            )
        )
    replace = msgspec.structs.replace
    made = 0
    while made < count:
        size = min(batch, count - made)
        out = []
        for n in range(made, made + size):
            base = pool[n % pool_size]
            arxiv = f"{2000 + n // 100000 % 600:04d}.{n % 100000:05d}"
            out.append(
                replace(
                    base,
                    title=f"{base.title} {n}",
                    arxiv_id=arxiv,
                    key=f"arxiv:{arxiv}",
                    url=f"https://arxiv.org/abs/{arxiv}",
                )
            )
        made += size
        yield out


def _hf_site():
    if str(FIXTURES) not in sys.path:
        sys.path.insert(0, str(FIXTURES))
    import hf_site  # tests/fixtures/hf_site.py, shared with the hf tests

    return hf_site


def listing_page(cards: int, *, embed_json: bool, day: dt.date, seed: int = 0) -> bytes:
    site = _hf_site()
    items = site.make_items(cards, day=day, seed=seed)
    return site.daily_page_2026(items, day=day, embed_json=embed_json).encode("utf-8")


FIRST_DAY = dt.date(2019, 1, 1)


def site_days(pages: int) -> list[dt.date]:
    return [FIRST_DAY + dt.timedelta(days=i) for i in range(pages)]


def write_site(directory: Path, pages: int, cards: int) -> int:
    """Daily listing pages `<directory>/<YYYY-MM-DD>.html`, distinct content; returns bytes."""
    directory.mkdir(parents=True, exist_ok=True)
    total = 0
    for i, day in enumerate(site_days(pages)):
        path = directory / f"{day.isoformat()}.html"
        if not path.exists():
            path.write_bytes(listing_page(cards, embed_json=True, day=day, seed=i))
        total += path.stat().st_size
    return total
