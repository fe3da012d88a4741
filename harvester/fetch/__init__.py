"""Fetching: the run's one polite, bounded, retrying HTTP client.

`harvester.fetch.settings` holds the typed `[fetch]` settings (importing it never imports
httpx); `harvester.fetch.client` the client. Errors live in `harvester.errors` (`FetchError`
and its subclasses, `Deferred`).
"""

from ..errors import FetchError
from .settings import FetchSettings, merge_settings

__all__ = ["FetchError", "FetchSettings", "merge_settings"]
