"""Package sources: scenario files (in memory), local wheel folders and HTTP simple indexes.

Open one with :func:`open_repository` from a :class:`SourceSettings`.
"""

from .builder import open_repository
from .settings import INDEX_STRATEGIES, INDEX_URL_VARIABLES, NetworkLimits, SourceSettings, index_url_from_environment

__all__ = [
    "INDEX_STRATEGIES", "INDEX_URL_VARIABLES", "NetworkLimits", "SourceSettings", "index_url_from_environment", "open_repository",
]
