"""The registry's real CPU provider plugins, ``provider-variant-x86-64`` and
``provider-variant-aarch64`` 0.0.1.post2, run through varsolve's allowed-plugin path for real:
downloaded from the package registry at test time into their own virtual environment (varsolve's
plugin cache, per test run), called in a subprocess under a time limit. Their answer on this
machine must agree with ``varsolve detect`` for what both report.

What they are known to report (checked by running them, November 2026):

* x86_64: ``level`` (``v4 ... v1``, as varsolve and uv's vendored provider) and ``FLAG :: on`` for
  the flags of the micro-architecture archspec names for the CPU, not the CPU's own flags: on a
  VM whose CPU archspec cannot name (this project's AMD EPYC VMs: generic ``x86_64_v4``) it lists
  only the x86-64-v1..v4 flags, while varsolve (reading ``/proc/cpuinfo``) also lists
  ``avx512_bf16``, ``sha_ni``, ``vaes`` and the like. Nothing for a v1-only CPU (archspec's
  generic ``x86_64`` is no ``x86_64_vN``).
* aarch64: nothing on an x86 machine; on Arm, ``version`` up to ``9.0a`` (varsolve follows uv's
  vendored provider: at most ``8.4a``); its list misspells ``asimdrdm`` and ``atomics`` as one
  name (``"asimdrdm" "atomics"`` without a comma), so it never reports either.
"""

from __future__ import annotations

import platform
from pathlib import Path

import pytest

from varsolve.api import build_problem, solve
from varsolve.providers import plugins
from varsolve.providers.detect import aarch64, x86_64
from varsolve.target import ProviderPolicy
from varsolve.variants.metadata import Provider

pytestmark = pytest.mark.network

VERSION = "0.0.1.post2"
X86 = Provider(requires=(f"provider-variant-x86-64=={VERSION}",), plugin_api="provider_variant_x86_64.plugin:X8664Plugin")
ARM = Provider(requires=(f"provider-variant-aarch64=={VERSION}",), plugin_api="provider_variant_aarch64.plugin:AArch64Plugin")
POLICY = ProviderPolicy(allow=frozenset({"provider-variant-x86-64", "provider-variant-aarch64"}), timeout=30.0)
ON_X86_64 = platform.machine().lower() in ("x86_64", "amd64")


@pytest.fixture(autouse=True)
def _bounded_install(monkeypatch: pytest.MonkeyPatch) -> None:
    # The whole test stays under a minute: installing a plugin may take 45 s at most.
    monkeypatch.setattr(plugins, "INSTALL_TIMEOUT", 45.0)
    plugins.clear_caches()


def _run(namespace: str, provider: Provider) -> dict[str, tuple[str, ...]]:
    spec = plugins.plugin_spec(namespace, provider)
    assert spec is not None
    try:
        return plugins.supported_from_plugin(spec, POLICY)
    except plugins.ProviderError as exc:
        if "cannot be installed" in str(exc) or "installing it took longer" in str(exc):
            pytest.skip(f"the package registry cannot be reached: {exc}")
        raise


def test_x86_64_plugin_agrees_with_varsolve_detect() -> None:
    answer = _run("x86_64", X86)
    ours = x86_64.detect_host().features if ON_X86_64 else {}
    if not ON_X86_64 or not answer:
        # Not x86, or a v1-only CPU (the plugin lists nothing there, varsolve lists v1).
        assert not answer or ours.get("level") == ("v1",)
        return
    assert answer["level"] == ours["level"]
    flags = {name: values for name, values in answer.items() if name != "level"}
    assert flags, answer
    for name, values in flags.items():
        assert values == ("on",), (name, values)  # the value spelling: "on"
        assert ours.get(name) == ("on",), f"the plugin reports {name}, varsolve detect does not"
    # Same names, same order: varsolve's flag list is the plugin's.
    assert [n for n in ours if n in flags] == list(flags)
    print(f"plugin flags: {len(flags)}, varsolve's: {len(ours) - 1}; only varsolve's:", sorted(set(ours) - set(answer)))


def test_aarch64_plugin_agrees_with_varsolve_detect() -> None:
    answer = _run("aarch64", ARM)
    ours = aarch64.detect_host().features if aarch64.is_host() else {}
    if not aarch64.is_host():
        assert answer == {} and ours == {}
        return
    assert answer["version"][-len(ours["version"]):] == ours["version"]  # the plugin goes on to 9.0a
    for name, values in answer.items():
        if name != "version":
            assert values == ("on",) and ours.get(name) == ("on",), name


@pytest.mark.skipif(not ON_X86_64, reason="needs an x86_64 machine")
def test_variant_keyed_on_a_flag_with_detect_and_with_the_plugin(write_scenario) -> None:
    """A wheel keyed on ``x86_64 :: avx512_bf16 :: on`` needs no plugin: ``--detect`` reads the
    flag from /proc/cpuinfo. Through the (allowed) real plugin it counts only when archspec names
    a CPU that has it."""
    path = write_scenario(f"""
        [root]
        requires = ["kernels"]
        [packages.kernels.versions."1.0"]
        sdist = false
        namespaces = ["x86_64"]
        [packages.kernels.versions."1.0".variants]
        bf16 = ["x86_64 :: avx512_bf16 :: on"]
        null = []
        [packages.kernels.versions."1.0".providers.x86_64]
        requires = ["provider-variant-x86-64=={VERSION}"]
        plugin-api = "provider_variant_x86_64.plugin:X8664Plugin"
        """)
    has_bf16 = "avx512_bf16" in (x86_64.parse_cpuinfo_flags(Path("/proc/cpuinfo").read_text()) or ())
    detected = solve(build_problem(scenario=path, provider_policy=ProviderPolicy(detect=True)), "sat")
    assert detected.packages["kernels"].variant == ("bf16" if has_bf16 else "null")
    answer = _run("x86_64", X86)
    with_plugin = solve(build_problem(scenario=path, provider_policy=POLICY), "sat")
    assert with_plugin.packages["kernels"].variant == ("bf16" if "avx512_bf16" in answer else "null")
