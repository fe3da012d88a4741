"""Re-record the hf cassettes from the synthetic site in tests/fixtures/hf_site.py.

    python cassettes/record.py

Serves the synthetic pages on 127.0.0.1, harvests them with the real sources and Fetcher under
vcrpy, and rewrites every recorded URL to https://huggingface.co so replay matches the real
site's URLs. See cassettes/README.md (also for recording against the live site).
"""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import vcr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harvester_plugins.hf.api import HfApiSource  # noqa: E402
from harvester_plugins.hf.papers import HfPapersSource  # noqa: E402

from harvester.api import SourceContext  # noqa: E402
from harvester.fetch import FetchSettings, Redactor  # noqa: E402
from harvester.fetch.runclient import SharedClient  # noqa: E402
from tests.conftest import cassette_options  # noqa: E402  (one set for recording and replay)

sys.path.insert(0, str(ROOT / "tests" / "fixtures"))
import hf_site  # noqa: E402  (tests/fixtures/hf_site.py)

SITE = "https://huggingface.co"
# Recording fetches as a run does, robots.txt included (the local site answers 404: allow all).
SETTINGS = FetchSettings(min_interval=0)


def _serve(routes: dict[str, tuple[int, dict[str, str], bytes]]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, headers, body = routes.get(self.path, (404, {}, b"not found"))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def record(name: str, routes, make_source) -> int:
    server = _serve(routes)
    local = f"http://127.0.0.1:{server.server_address[1]}"

    def as_real_site(request):
        request.uri = request.uri.replace(local, SITE)
        return request

    cassette = Path(__file__).parent / name
    cassette.unlink(missing_ok=True)
    # every configured header value and every cookie is masked, whatever the header's name
    redactor = Redactor.from_settings(SETTINGS)
    options = cassette_options(redactor)
    scrub_request = options.pop("before_record_request")
    recorder = vcr.VCR(
        record_mode="all",
        before_record_request=lambda request: as_real_site(scrub_request(request)),
        **options,
    )
    client = SharedClient(SETTINGS, redactor=redactor)
    context = SourceContext(fetch_settings=SETTINGS, client=client)
    papers = []
    try:
        with recorder.use_cassette(str(cassette)):
            source = make_source(local, context)
            for target in source.targets():  # fetch, then read: as the run does
                target.fetched = source.fetch(target)
                papers += source.read(target)
    finally:
        client.close()
        server.shutdown()
    print(f"{cassette.name}: {len(papers)} records")
    return len(papers)


def main() -> None:
    first, last = hf_site.WEEK[0], hf_site.WEEK[-1]
    record(
        "hf_papers_week_2026-10-05.yaml",
        hf_site.week_site(),
        lambda base, ctx: HfPapersSource(
            HfPapersSource.Options(base_url=base, daily_from=first, daily_to=last), ctx
        ),
    )
    record(
        "hf_api_daily_2026-10-06.yaml",
        hf_site.api_site(),
        lambda base, ctx: HfApiSource(
            HfApiSource.Options(base_url=base, daily_from=hf_site.API_DAY, limit=hf_site.API_LIMIT),
            ctx,
        ),
    )


if __name__ == "__main__":
    main()
