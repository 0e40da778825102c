"""What a detector reports, shared by the detectors and the registry in ``__init__``."""

from __future__ import annotations

from dataclasses import dataclass, field

Features = dict[str, tuple[str, ...]]


@dataclass(frozen=True)
class Detection:
    """What one detector found; ``features`` empty means nothing in the namespace is supported."""

    namespace: str
    features: Features = field(default_factory=dict)
    # Why nothing (or less than usual) was found, for a note on stderr; None when all went well.
    note: str | None = None
