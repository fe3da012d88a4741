"""The two Hugging Face Papers sources, `hf-papers` (listing pages) and `hf-api` (the JSON API).

urls     listing URLs and the days they name
items    the daily-papers item shape, the ONE item -> Paper mapping, listing days
page     page-level parsing: the embedded DailyPapers JSON and the page's day
cards    the rendered cards (2024 and 2026 layouts)
bounds   bounds on HTML nesting before anything is parsed
base     what both sources share: file or URL targets, conditional GET, options
papers   source `hf-papers` (registers it)
api      source `hf-api` (registers it)
"""
