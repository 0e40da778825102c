"""Package sources: scenario files (in memory), local wheel folders and HTTP simple indexes.

Open one with :func:`open_repository` from a :class:`SourceSettings`.
"""

from .builder import open_repository
from .settings import INDEX_URL_VARIABLES, SourceSettings, index_url_from_environment

__all__ = ["INDEX_URL_VARIABLES", "SourceSettings", "index_url_from_environment", "open_repository"]
