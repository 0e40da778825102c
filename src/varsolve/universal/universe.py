"""The universe of a universal resolution: the Pythons requires-python allows, split into the
required environments; and the bad input that makes it empty or ambiguous."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import InputError
from .region import python_markers

if TYPE_CHECKING:
    from ..marker_algebra import MarkerSet

__all__ = ["universe"]


def universe(
    requires_python: str,
    environments: Sequence[str] = (),
    requires_python_key: str = "requires-python",
    environments_key: str = "environments",
) -> list[MarkerSet]:
    """The starting regions: the Pythons ``requires_python`` allows, split into the required
    environments (disjoint, in the order given) when there are any.

    Bad input is an :class:`InputError` naming the key (``requires_python_key``,
    ``environments_key[i]``): a requires-python that allows no Python,
    an environment marker that can never be true (or never with that requires-python), one that
    repeats or is covered by the environments before it.
    """
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    from ..marker_algebra import MarkerSet

    try:
        spec = SpecifierSet(requires_python)
    except InvalidSpecifier:
        raise InputError(f"invalid specifier {requires_python!r}", where=requires_python_key) from None
    base = python_markers(str(spec))
    if base.is_empty():
        raise InputError(f"{requires_python!r} allows no Python version", where=requires_python_key)
    if not environments:
        return [base]
    regions: list[MarkerSet] = []
    covered = MarkerSet.empty()
    for i, text in enumerate(environments):
        key = f"{environments_key}[{i}]"
        if not isinstance(text, str):
            raise InputError(f"must be a marker string, not {type(text).__name__}", where=key)
        try:
            marker = MarkerSet.parse(text)
        except InputError as exc:
            raise InputError(str(exc), where=key) from None
        if marker.is_empty():
            raise InputError(f"{text!r} can never be true", where=key)
        part = marker & base
        if part.is_empty():
            raise InputError(f"{text!r} can never be true with requires-python {requires_python!r}", where=key)
        rest = part & ~covered
        if rest.is_empty():
            raise InputError(f"{text!r} adds no environment: the environments before it cover it", where=key)
        regions.append(rest)
        covered = covered | part
    return regions
