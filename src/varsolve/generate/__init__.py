"""Generated scenario families for studies and benchmarks (``varsolve generate``).

Each family is a function ``generate(*, seed, **knobs) -> str`` returning scenario TOML
(docs/scenario-format.md); its keyword parameters are its knobs, and the same knobs and seed give
the same bytes. Use :func:`load` to turn the text into a scenario without writing a file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from . import adversarial, ecosystem, layered

if TYPE_CHECKING:
    from ..sources.scenario import Scenario

FAMILIES: dict[str, Callable[..., str]] = {
    "adversarial": adversarial.generate,
    "ecosystem": ecosystem.generate,
    "layered": layered.generate,
}


def load(text: str, where: str = "<generated>") -> Scenario:
    """The scenario (problem and expectations) of generated TOML ``text``."""
    from ..sources.scenario import load_scenario_text

    return load_scenario_text(text, where)
