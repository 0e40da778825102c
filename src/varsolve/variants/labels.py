"""Variant labels (PEP 825): ``^[0-9a-z_.]+$``; ``null`` is reserved for the zero-property variant.

PEP 817 and the first prototypes capped labels at 16 characters; PEP 825 lifted the cap, and we
accept longer labels when reading (digest section 9, point 7).
"""

from __future__ import annotations

import re

from ..errors import InvalidLabel

LABEL_RE = re.compile(r"^[0-9a-z_.]+$")
NULL_LABEL = "null"


def validate_label(label: str) -> str:
    if not isinstance(label, str) or not LABEL_RE.fullmatch(label):
        raise InvalidLabel(f"invalid variant label {label!r} (must match {LABEL_RE.pattern})")
    return label
