"""Reading /proc/cpuinfo, shared by the CPU detectors."""

from __future__ import annotations


def common_field_words(text: str, field: str) -> frozenset[str] | None:
    """The words of ``field`` (``flags`` on x86_64, ``Features`` on aarch64) that every processor
    in a /proc/cpuinfo text lists; None when no processor lists the field. Intersected because a
    process may run on any of them."""
    common: frozenset[str] | None = None
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() == field:
            words = frozenset(value.split())
            common = words if common is None else common & words
    return common
