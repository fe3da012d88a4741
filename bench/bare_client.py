"""The end-to-end stage's floor as a process: `python bench/bare_client.py URLS_FILE CONCURRENCY`.

A bare httpx client (one `httpx.Client`, keep-alive, `CONCURRENCY` threads) GETs every URL of
the file and reads each body, nothing else. It runs as a whole process, from start to exit, and
is timed as `harvester run` is (`harness.run_process`): both sides pay Python's start and their
imports, which an in-process timer gave the client for free (~0.1-0.2 s of a 3 s row). Prints
one JSON object: pages and bytes read.
"""

from __future__ import annotations

import json
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx


def main(urls_file: str, concurrency: int) -> None:
    urls = Path(urls_file).read_text().split()
    limits = httpx.Limits(max_keepalive_connections=concurrency)
    with httpx.Client(limits=limits) as client:

        def get(url: str) -> int:
            response = client.get(url)
            response.raise_for_status()
            return len(response.content)

        with ThreadPoolExecutor(concurrency) as pool:
            total = sum(pool.map(get, urls))
    print(json.dumps({"pages": len(urls), "bytes": total}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
