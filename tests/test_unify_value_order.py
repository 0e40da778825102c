"""The value a unified feature reports follows the providers' preference order, wherever it
comes from (here: static-properties in the variant metadata, not the user's static file)."""

from __future__ import annotations

import textwrap

import pytest

from varsolve.api import solve
from varsolve.sources.scenario import load_scenario

# Two fat wheels that both support v2 and v3: the common values are {v2, v3}; the provider
# (metadata static-properties, PEP 850 rule 2) prefers v3.
SCENARIO = """
[root]
requires = ["a", "b"]
[resolver_options]
unify = ["x86_64 :: level"]
[packages.a.versions."1.0"]
wheel = false
sdist = false
[packages.a.versions."1.0".variants]
fat = ["x86_64 :: level :: v2", "x86_64 :: level :: v3"]
[packages.a.versions."1.0".providers.x86_64]
static-properties = { level = ["v3", "v2", "v1"] }
[packages.b.versions."1.0"]
wheel = false
sdist = false
[packages.b.versions."1.0".variants]
fat = ["x86_64 :: level :: v2", "x86_64 :: level :: v3"]
[packages.b.versions."1.0".providers.x86_64]
static-properties = { level = ["v3", "v2", "v1"] }
"""


@pytest.mark.parametrize("strategy", ["backtrack", "sat"])
def test_unified_value_follows_metadata_static_properties(tmp_path, strategy):
    path = tmp_path / "fat.toml"
    path.write_text(textwrap.dedent(SCENARIO))
    resolution = solve(load_scenario(path).problem, strategy)
    assert resolution.satisfiable and resolution.violations == ()
    assert resolution.unified == {"x86_64 :: level": "v3"}
