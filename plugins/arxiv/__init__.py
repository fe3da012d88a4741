"""arXiv, built in: three sources (docs/arxiv.md).

calendar  the announcement calendar: which days have a listing, which one /new shows
urls      listing, OAI-PMH and API URLs; the options' name patterns
records   the one arXiv metadata -> Paper mapping; ids with versions
page      a listing page's structure: sections, "showing X of Y", "Total of N"
entries   one listing entry -> Paper
listing   source `arxiv-listing` (registers it)
oai       OAI-PMH ListRecords answers (arXivRaw, arXiv, oai_dc) -> records, errors, tokens
harvest   source `arxiv-oai` (registers it)
atom      API Atom answers -> records, errors
api       source `arxiv-api` (registers it)
"""
