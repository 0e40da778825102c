"""Target files (varsolve.target_file): one parser for ``compare --target``, ``lock --target`` and
``install --variants``."""

from __future__ import annotations

from pathlib import Path

import pytest

from varsolve.errors import InputError
from varsolve.target import ProviderPolicy, Target
from varsolve.target_file import parse_target_text, read_target_file

CUDA = """\
name = "cuda"
python = "3.11"
platform = "x86_64-manylinux_2_28"
enable = ["debug"]

[[provider]]
namespace = "nvidia"
[provider.properties]
sm_arch = ["120_real"]
"""


def test_a_target_file_on_its_own_and_over_another_target() -> None:
    parsed = parse_target_text(CUDA, "machines/cuda-box.toml")
    assert (parsed.name, parsed.python, parsed.platform, parsed.enable) == ("cuda", "3.11", "x86_64-manylinux_2_28", ("debug",))
    alone = parsed.target()
    assert alone.python_version == "3.11" and alone.variants == {"nvidia": {"sm_arch": ("120_real",)}}
    base = Target.make("3.12", "aarch64-apple-darwin", {"blas": {"library": ["mkl"]}}, ["x"])
    base = Target(base.python, base.platform, base.variants, base.enabled, ProviderPolicy(detect=True))
    over = parsed.over(base)
    assert over.python_version == "3.11" and over.platform.name == "x86_64-manylinux_2_28"
    assert over.variants == {"nvidia": {"sm_arch": ("120_real",)}} and over.enabled == {"debug"}
    assert over.provider_policy.detect is True


def test_keys_a_file_leaves_out_keep_the_other_target() -> None:
    base = Target.make("3.12", "aarch64-apple-darwin", {"blas": {"library": ["mkl"]}}, ["x"])
    only_python = parse_target_text('python = "3.13"\n[metadata]\ncreated-by = "me"\n', "p.toml")
    assert only_python.name == "p" and only_python.variants is None
    over = only_python.over(base)
    assert over.python_version == "3.13" and over.platform == base.platform
    assert over.variants == base.variants and over.enabled == base.enabled
    # `provider = []` says "nothing supported": it replaces the other target's properties.
    assert parse_target_text("provider = []\n", "none.toml").over(base).variants == {}


@pytest.mark.parametrize(
    "text, message",
    [
        ("python = [", "malformed TOML"),
        ('colour = "red"\n', "colour: unknown key (known: enable, metadata, name, platform, provider, python)"),
        ("name = 3\n", "name: must be a string"),
        ('enable = "nvidia"\n', "enable: must be a list of strings"),
        ('platform = "amiga"\n', "unknown platform 'amiga'"),
        ('python = "three"\n', "invalid Python version 'three'"),
        ("[[provider]]\nnamespace = 'Bad NS'\n", "provider[0].namespace: invalid namespace"),
    ],
)
def test_errors_name_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "t.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as info:
        read_target_file(path)
    assert str(path) in str(info.value) and message in str(info.value)
    assert len(str(info.value).splitlines()) == 1


def test_unreadable_files_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read target file"):
        read_target_file(tmp_path / "missing.toml")
    latin = tmp_path / "latin.toml"
    latin.write_bytes(b'name = "caf\xe9"\n')
    with pytest.raises(InputError, match="not UTF-8 text"):
        read_target_file(latin)
