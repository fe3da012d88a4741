"""Bibliographic exports: `harvester export` as a real subprocess, read back by the tools people
use (bibtexparser, rispy) and validated against the official CSL-JSON schema."""

from __future__ import annotations

import contextlib
import json
import os

import bibtexparser
import jsonschema
import msgspec
import pytest
import rispy
from bibtexparser.middlewares import LatexDecodingMiddleware, SeparateCoAuthors, SplitNameParts
from harvester_plugins.biblio.keys import citation_keys
from harvester_plugins.biblio.sink import BibliographyOptions, BibtexSink, CslJsonSink, RisSink

from harvester.api import Outcome, SinkContext
from tests.paper_factory import (
    example_papers,
    numbered,
    run_harvester,
    sample_papers,
    write_jsonl,
    write_sqlite,
)

SCHEMA = "reference/csl-data.schema.json"


@pytest.fixture
def sources(tmp_path):
    papers = sample_papers()
    # A JSONL stream sees a paper more than once: the later sighting wins, its gaps filled.
    earlier = msgspec.structs.replace(papers[0], upvotes=3, abstract="An older abstract.")
    jsonl = write_jsonl(tmp_path / "papers.jsonl", [earlier, *papers])
    db = write_sqlite(tmp_path / "papers.db", papers)
    return {"jsonl": jsonl, "sqlite": db}


def export(fmt: str, source, *extra) -> str:
    return run_harvester("export", "--format", fmt, source, *extra).stdout


def parse_bibtex(text: str):
    library = bibtexparser.parse_string(
        text, append_middleware=[SeparateCoAuthors(), LatexDecodingMiddleware()]
    )
    assert not library.failed_blocks
    return {entry.key: entry for entry in library.entries}


@pytest.mark.shared
@pytest.mark.parametrize("kind", ["jsonl", "sqlite"])
def test_csl_json_is_valid_against_the_official_schema(sources, shared_dir, kind):
    items = json.loads(export("csl-json", sources[kind]))
    schema = json.loads((shared_dir / SCHEMA).read_text(encoding="utf-8"))
    jsonschema.validate(items, schema, cls=jsonschema.Draft7Validator)
    by_title = {item["title"]: item for item in items}
    assert len(items) == 4
    first = by_title["Sheep Counting at Scale: 100% Recall & {Braces}"]
    assert first["author"][0] == {"family": "Müller-Łukasiewicz", "given": "Zoë"}
    assert first["author"][2] == {"literal": "王小明"}
    assert first["DOI"] == "10.48550/arXiv.2603.01111"
    assert first["issued"] == {"date-parts": [[2026, 3, 12]]}
    assert first["abstract"].startswith("We count")  # the latest sighting's abstract
    unknown = by_title["The Café Physics of Ünïcode"]
    assert "author" not in unknown and "4 authors" in unknown["note"]
    no_id = by_title["A Paper Without An Identifier"]
    assert "DOI" not in no_id and "number" not in no_id and "issued" not in no_id


@pytest.mark.shared
def test_a_schema_violation_would_be_caught(shared_dir):
    schema = json.loads((shared_dir / SCHEMA).read_text(encoding="utf-8"))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate([{"id": "x", "type": "preprint-ish"}], schema)


def test_bibtex_follows_arxiv_conventions_and_reads_back(sources):
    text = export("bibtex", sources["jsonl"])
    entries = parse_bibtex(text)
    assert len(entries) == 4
    by_eprint = {e.fields_dict["eprint"].value: e for e in entries.values() if "eprint" in e}
    first = by_eprint["2603.01111"]
    assert first.entry_type == "misc"
    assert first["archivePrefix"] == "arXiv" and first["primaryClass"] == "cs.CV"
    assert first["doi"] == "10.48550/arXiv.2603.01111"
    assert first["url"] == "https://arxiv.org/abs/2603.01111"
    parts = [(a.first, a.von, a.last, a.jr) for a in split_names(first)]
    assert parts == [
        (["Zoë"], [], ["Müller-Łukasiewicz"], []),
        (["José"], [], ["Ñúñez"], []),
        ([], [], ["{王小明}"], []),  # one unit: nothing to split
    ]
    assert first["title"] == "Sheep Counting at Scale: 100% Recall & {Braces}"
    assert "primaryClass" not in by_eprint["2603.03333"]  # not known for that one
    unknown = by_eprint["2603.02222"]
    assert "author" not in unknown and "(4 authors)" in unknown["note"]
    no_id = next(e for e in entries.values() if "eprint" not in e)
    assert "doi" not in no_id and "archivePrefix" not in no_id
    assert no_id["author"] == ["{Madonna}"]


def split_names(entry):
    """The entry's authors as BibTeX itself splits them (first, von, last, jr)."""
    library = bibtexparser.Library([entry])
    return SplitNameParts().transform(library).entries[0]["author"]


def test_ris_reads_back_with_rispy(sources):
    records = rispy.loads(export("ris", sources["sqlite"]))
    assert len(records) == 4
    by_title = {r["title"]: r for r in records}
    first = by_title["Sheep Counting at Scale: 100% Recall & {Braces}"]
    assert first["type_of_reference"] == "UNPB"
    assert first["authors"] == ["Müller-Łukasiewicz, Zoë", "Ñúñez, José", "王小明"]
    assert first["doi"] == "10.48550/arXiv.2603.01111" and first["year"] == "2026"
    assert first["urls"] == ["https://arxiv.org/abs/2603.01111"]
    assert "authors" not in by_title["The Café Physics of Ünïcode"]
    no_id = by_title["A Paper Without An Identifier"]
    assert no_id["type_of_reference"] == "GEN" and "doi" not in no_id


def test_citation_keys_are_unique_stable_and_independent_of_order():
    papers = sample_papers()
    keys = citation_keys(papers)
    assert len(set(keys.values())) == len(papers)
    assert keys == citation_keys(list(reversed(papers)))
    # The two "Müller-Łukasiewicz 2026 Sheep" papers collide: suffixes come from paper keys.
    colliding = [keys["arxiv:2603.01111"], keys["arxiv:2603.03333"]]
    assert all(k.startswith("mullerlukasiewicz2026sheep-") for k in colliding)
    assert keys["arxiv:2603.02222"] == "anon2025cafe"  # authors unknown; year from published
    more = citation_keys([*papers, *(numbered(n) for n in range(30))])
    assert all(more[p.key] == keys[p.key] for p in papers)


def test_same_source_same_output_and_o_writes_a_file(sources, tmp_path):
    out = tmp_path / "refs.bib"
    run_harvester("export", "--format", "bibtex", "-o", out, sources["jsonl"])
    assert out.read_text(encoding="utf-8") == export("bibtex", sources["jsonl"])
    assert export("csl-json", sources["jsonl"]) == export("csl-json", sources["sqlite"])


def test_export_works_on_the_example_runs_database(tmp_path):
    db = write_sqlite(tmp_path / "papers.db", example_papers())
    entries = parse_bibtex(export("bibtex", db))
    assert len(entries) == len({p.key for p in example_papers()}) > 5


def test_a_source_that_is_not_papers_is_a_usage_error(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"title": "ok"}\nnot json\n', encoding="utf-8")
    done = run_harvester("export", "--format", "ris", bad, check=False)
    assert done.returncode == 2
    assert f"{bad}:" in done.stderr and "Traceback" not in done.stderr


# -- the same formats as sinks ------------------------------------------------------------------


def bib_sink(cls, tmp_path, *, incremental=False, path="out/refs"):
    return cls(
        BibliographyOptions(path=path), SinkContext(base_dir=tmp_path, incremental=incremental)
    )


@pytest.mark.parametrize("cls", [CslJsonSink, BibtexSink, RisSink])
def test_sinks_write_at_done_and_keep_the_old_file_otherwise(tmp_path, cls):
    target = tmp_path / "out/refs"
    sink = bib_sink(cls, tmp_path)
    sink.open(None)
    sink.write(sample_papers())
    sink.commit()
    sink.close(Outcome.DONE)
    first = target.read_text(encoding="utf-8")
    assert "Müller-Łukasiewicz" in first
    assert not list(tmp_path.glob("out/refs.papers.jsonl*"))  # replace mode: staging removed
    for outcome in (Outcome.SUSPEND, Outcome.ABANDON):
        sink = bib_sink(cls, tmp_path)
        sink.open(None)
        sink.write([numbered(1)])
        sink.commit()
        sink.close(outcome)
        assert target.read_text(encoding="utf-8") == first


def _die(folder) -> None:
    """What the kernel does for a killed process: close its files under `folder` (releasing
    their locks) without anything being flushed, cut back or published."""
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/self/fd/{fd}").startswith(str(folder)):
                os.close(int(fd))


def test_bibtex_sink_resumes_and_accumulates_in_append_mode(tmp_path):
    sink = bib_sink(BibtexSink, tmp_path, incremental=True)
    sink.open(None)
    sink.write([numbered(1), numbered(2)])
    checkpoint = json.loads(json.dumps(sink.commit()))
    sink.write([numbered(3)])  # never committed: the run is killed
    _die(tmp_path / "out")
    resumed = bib_sink(BibtexSink, tmp_path, incremental=True)
    resumed.open(checkpoint)
    resumed.write([numbered(4)])
    resumed.close(Outcome.DONE)
    later = bib_sink(BibtexSink, tmp_path, incremental=True)
    later.open(None)
    later.write([numbered(2), numbered(5)])  # paper 2 seen again: still one entry
    later.close(Outcome.DONE)
    entries = parse_bibtex((tmp_path / "out/refs").read_text(encoding="utf-8"))
    titles = sorted(e["title"] for e in entries.values())
    assert titles == sorted(numbered(n).title for n in (1, 2, 4, 5))
