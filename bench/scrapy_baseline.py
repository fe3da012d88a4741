"""The end-to-end baseline: a minimal Scrapy project, written at run time into `bench/_work/`.

Its spider does what the hf-papers source does on these pages: take the embedded DailyPapers
JSON of each listing page and yield one item per paper (the same fields), into a JSON-lines feed,
at the same concurrency as the harvester's fetcher.
"""

from __future__ import annotations

from pathlib import Path

SPIDER = """\
import datetime as dt
import json
from pathlib import Path

import scrapy


class ListingSpider(scrapy.Spider):
    name = "listing"

    async def start(self):  # Scrapy >= 2.13
        for request in self.start_requests():
            yield request

    def start_requests(self):  # older Scrapy
        for url in Path(self.settings["BENCH_URLS"]).read_text().split():
            yield scrapy.Request(url, dont_filter=True)

    def parse(self, response):
        props = json.loads(response.css('[data-target="DailyPapers"]::attr(data-props)').get())
        day = props.get("date")
        for item in props["dailyPapers"]:
            p = item["paper"]
            org = item.get("organization") or {}
            by = item.get("submittedBy") or {}
            yield {
                "key": "arxiv:" + p["id"],
                "arxiv_id": p["id"],
                "title": " ".join(item["title"].split()),
                "abstract": " ".join(item["summary"].split()),
                "authors": [a["name"] for a in p["authors"]],
                "author_count": len(p["authors"]),
                "published": dt.date.fromisoformat(p["publishedAt"][:10]).isoformat(),
                "upvotes": p.get("upvotes"),
                "comments": item.get("numComments"),
                "organization": org.get("fullname"),
                "submitted_by": by.get("fullname"),
                "listing_date": day,
                "url": "https://huggingface.co/papers/" + p["id"],
                "source_ref": response.url,
            }
"""

SETTINGS = """\
BOT_NAME = "benchlisting"
SPIDER_MODULES = ["benchlisting.spiders"]
ROBOTSTXT_OBEY = False
CONCURRENT_REQUESTS = {concurrency}
CONCURRENT_REQUESTS_PER_DOMAIN = {concurrency}
CONCURRENT_REQUESTS_PER_IP = 0
DOWNLOAD_DELAY = 0
AUTOTHROTTLE_ENABLED = False
COOKIES_ENABLED = False
RETRY_ENABLED = True
TELNETCONSOLE_ENABLED = False
LOG_LEVEL = "WARNING"
HTTPCACHE_ENABLED = False
FEED_EXPORT_ENCODING = "utf-8"
BENCH_URLS = {urls!r}
FEEDS = {{{feed!r}: {{"format": "jsonlines", "overwrite": True}}}}
"""


def write_project(directory: Path, *, urls_file: Path, feed: Path, concurrency: int) -> Path:
    """Write the project; returns its directory (run `scrapy crawl listing` there)."""
    package = directory / "benchlisting"
    (package / "spiders").mkdir(parents=True, exist_ok=True)
    (directory / "scrapy.cfg").write_text("[settings]\ndefault = benchlisting.settings\n")
    (package / "__init__.py").write_text("")
    (package / "spiders" / "__init__.py").write_text("")
    (package / "spiders" / "listing.py").write_text(SPIDER)
    (package / "settings.py").write_text(
        SETTINGS.format(concurrency=concurrency, urls=str(urls_file), feed=str(feed))
    )
    return directory
