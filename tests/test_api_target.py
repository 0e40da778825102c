"""``build_problem(target=..., python=...)``: the Python version replaces only the Python."""

from __future__ import annotations

from pathlib import Path

import pytest

from varsolve.api import build_problem
from varsolve.errors import InputError
from varsolve.target import ProviderPolicy, Target

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "variants" / "blas-unify.toml"


def _machine() -> Target:
    base = Target.make("3.11", "aarch64-apple-darwin", {"blas_lapack": {"library": ["openblas"]}}, ["debug"])
    policy = ProviderPolicy(detect=True, allow=frozenset({"nvidia-variant-provider"}), timeout=5.0)
    return Target(base.python, base.platform, base.variants, base.enabled, policy)


def test_with_python_keeps_every_other_field() -> None:
    machine = _machine()
    moved = machine.with_python("3.13")
    assert moved.python_version == "3.13" and str(moved.python) == "3.13.0"
    assert (moved.platform, moved.variants, moved.enabled, moved.provider_policy) == (
        machine.platform, machine.variants, machine.enabled, machine.provider_policy,
    )
    with pytest.raises(InputError, match="invalid Python version 'three'"):
        machine.with_python("three")


def test_build_problem_with_a_python_keeps_the_targets_provider_policy() -> None:
    problem = build_problem(scenario=SCENARIO, target=_machine(), python="3.12")
    assert problem.target.python_version == "3.12"
    assert problem.target.provider_policy.detect is True
    assert problem.target.provider_policy.allow == {"nvidia-variant-provider"}
    assert problem.target.platform.name == "aarch64-apple-darwin" and problem.target.enabled == {"debug"}
