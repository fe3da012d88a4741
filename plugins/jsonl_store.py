"""Reading a JSONL file of records back (`harvester.store`'s ``jsonl`` kind): the lines are a
log of sightings, replayed in order through the database sinks' merge
(`harvester_plugins.store.replay`): one paper per paper, its sightings and its history, as the
``sqlite`` sink would hold them after the same records."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from harvester_plugins.store.replay import RecordLogStore

from harvester.errors import InputError
from harvester.jsonl import read_jsonl
from harvester.schema import Paper
from harvester.store import StoreError

BATCH = 1000  # records merged at a time: the result does not depend on it
_SUFFIXES = (".jsonl", ".ndjson", ".json")


def looks_like_jsonl(path: Path) -> bool:
    """A file whose first non-blank byte opens a JSON object (or an empty *.jsonl file)."""
    try:
        with path.open("rb") as f:
            head = f.read(4096).lstrip()
    except OSError:
        return False
    return head[:1] == b"{" if head else path.suffix in _SUFFIXES


class JsonlStore(RecordLogStore):
    name = "jsonl"
    kind = "a JSONL file of paper records"

    @classmethod
    def claims(cls, location: str) -> bool:
        path = Path(location)
        return path.is_file() and looks_like_jsonl(path)

    def batches(self) -> Iterator[list[Paper]]:
        batch: list[Paper] = []
        try:
            for _, paper in read_jsonl(self.location, Paper):
                batch.append(paper)
                if len(batch) == BATCH:
                    yield batch
                    batch = []
        except InputError as exc:
            raise StoreError(f"{exc} (a JSONL store holds one paper record per line)") from exc
        except OSError as exc:
            raise StoreError(f"{self.location}: cannot read: {exc}") from exc
        if batch:
            yield batch
