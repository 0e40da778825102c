"""Generated scenario families for studies and benchmarks (``varsolve generate``).

Each family is a function ``generate(*, seed, **knobs) -> str`` returning scenario TOML
(docs/scenario-format.md); its keyword parameters are its knobs, and the same knobs and seed give
the same bytes. Use :func:`load` to turn the text into a scenario without writing a file.
"""

from __future__ import annotations

from collections.abc import Callable

from . import adversarial, ecosystem, layered

FAMILIES: dict[str, Callable[..., str]] = {
    "adversarial": adversarial.generate,
    "ecosystem": ecosystem.generate,
    "layered": layered.generate,
}


def load(text: str, where: str = "<generated>"):
    """The scenario (problem and expectations) of generated TOML ``text``."""
    from ..compare.tasks import scenario_from_text

    return scenario_from_text(text, where)
