"""Package sources: scenario files (in memory), local wheel folders and HTTP simple indexes.

Open one with :func:`open_repository` from a :class:`SourceSettings`.
"""

from .settings import (
    INDEX_URL_VARIABLES,
    SourceSettings,
    index_url_from_environment,
    open_repository,
)

__all__ = ["INDEX_URL_VARIABLES", "SourceSettings", "index_url_from_environment", "open_repository"]
