"""Lock model units on hand-made data: target files and layout, reading/validating locks
(packaging's model + PEP 825's variants-json), and PEP 825 wheel selection at install time.
Integration (real wheels, an index over HTTP, venvs, uv) is in test_lock_roundtrip.py."""

from __future__ import annotations

import copy
from datetime import UTC
from pathlib import Path

import pytest
from packaging.tags import Tag

from varsolve.errors import InputError
from varsolve.lockfile.document import label_blind_view, validate
from varsolve.lockfile.install import plan
from varsolve.lockfile.interpreter import Interpreter
from varsolve.lockfile.targets import LockTarget, distinguishing_fields, load_target_file, lock_layout
from varsolve.lockfile.tomlio import dumps
from varsolve.target import Target

SCHEMA = "https://variants-schema.wheelnext.dev/peps/825/v0.1.1.json"
H = "0" * 64


def _wheel(filename: str) -> dict:
    return {"name": filename, "path": f"files/{filename}", "size": 10, "hashes": {"sha256": H}}


def _lock(*packages: dict, tool: dict | None = None) -> dict:
    data = {
        "lock-version": "1.0",
        "environments": ['sys_platform == "linux"'],
        "requires-python": ">=3.11",
        "created-by": "test",
        "packages": list(packages),
    }
    if tool is not None:
        data["tool"] = {"varsolve": tool}
    return data


def _numpy(labels=("mkl", "openblas"), plain=True) -> dict:
    wheels = [_wheel(f"numpy-2.3.0-py3-none-any-{label}.whl") for label in labels]
    if plain:
        wheels.append(_wheel("numpy-2.3.0-py3-none-any.whl"))
    variants = {
        "mkl": {"blas_lapack": {"library": ["mkl"]}},
        "openblas": {"blas_lapack": {"library": ["openblas"]}},
    }
    return {
        "name": "numpy",
        "version": "2.3.0",
        "wheels": wheels,
        "variants-json": {
            "$schema": SCHEMA,
            "default-priorities": {"namespace": ["blas_lapack"]},
            "variants": {label: variants[label] for label in labels},
        },
    }


LINUX_311 = {
    "implementation_name": "cpython", "implementation_version": "3.11.7", "os_name": "posix",
    "platform_machine": "x86_64", "platform_release": "", "platform_system": "Linux",
    "platform_version": "", "python_full_version": "3.11.7", "platform_python_implementation": "CPython",
    "python_version": "3.11", "sys_platform": "linux",
}


def _interp(env=None) -> Interpreter:
    return Interpreter("/venv/bin/python", dict(env or LINUX_311), (Tag("py3", "none", "any"),), {}, {})


# -- targets -----------------------------------------------------------------------------------


def test_target_file_reuses_the_static_provider_layout(tmp_path: Path) -> None:
    path = tmp_path / "cuda.toml"
    path.write_text(
        'python = "3.12"\nplatform = "x86_64-manylinux_2_28"\nenable = ["debug"]\n'
        '[[provider]]\nnamespace = "nvidia"\n[provider.properties]\n'
        'cuda_version_lower_bound = ["12.8", "12.6"]\nsm_arch = ["120_real"]\n'
    )
    lt = load_target_file(path)
    assert lt.name == "cuda"
    assert lt.target.python_version == "3.12" and lt.target.platform.name == "x86_64-manylinux_2_28"
    assert lt.target.variants == {"nvidia": {"cuda_version_lower_bound": ("12.8", "12.6"), "sm_arch": ("120_real",)}}
    assert lt.target.enabled == {"debug"}
    assert lt.marker() == 'python_version == "3.12" and sys_platform == "linux" and platform_machine == "x86_64"'


@pytest.mark.parametrize(
    "text, message",
    [
        ('python = "3.12"\ncolour = "red"\n', "colour: unknown key"),
        ('name = "a.b"\n', "target name 'a.b'"),
        ('platform = "amiga"\n', "unknown platform 'amiga'"),
        ("[[provider]]\nnamespace = 'Bad NS'\n", "invalid namespace"),
        ("python = [", "malformed TOML"),
    ],
)
def test_bad_target_files_name_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "t.toml"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        load_target_file(path)
    assert str(path) in str(info.value) and message in str(info.value)


def test_layout_shares_a_lock_only_when_markers_tell_targets_apart() -> None:
    linux = LockTarget("linux", Target.make("3.12", "x86_64-manylinux_2_39"))
    mac = LockTarget("mac", Target.make("3.12", "aarch64-apple-darwin"))
    py311 = LockTarget("py311", Target.make("3.11", "x86_64-manylinux_2_39"))
    cuda = LockTarget("cuda", Target.make("3.12", "x86_64-manylinux_2_39", {"nvidia": {"sm_arch": ["120_real"]}}))
    assert lock_layout([linux, mac, py311]) == "shared"
    assert distinguishing_fields([linux, mac, py311]) == ("python_version", "sys_platform", "platform_machine")
    assert distinguishing_fields([linux, py311]) == ("python_version",)
    assert lock_layout([linux, cuda]) == "per-target"
    # manylinux 2.28 and 2.39 differ in tags, not in any marker: no shared lock either.
    old = LockTarget("old", Target.make("3.12", "x86_64-manylinux_2_28"))
    assert lock_layout([linux, old]) == "per-target"


# -- reading and validating --------------------------------------------------------------------


def test_packaging_alone_rejects_variant_wheels_so_we_validate_a_label_blind_view() -> None:
    from packaging.pylock import Pylock, PylockValidationError

    data = _lock(_numpy())
    with pytest.raises(PylockValidationError, match="Invalid wheel filename"):
        Pylock.from_dict(data)
    view, parsed = label_blind_view(data, "pylock.toml")
    assert [w["name"] for w in view["packages"][0]["wheels"]] == ["numpy-2.3.0-py3-none-any.whl"] * 3
    assert [wf.label for wf in parsed[0]] == ["mkl", "openblas", None]
    Pylock.from_dict(view).validate()
    doc = validate(data, "pylock.toml")
    assert set(doc.variants[0].variants) == {"mkl", "openblas"}
    assert data["packages"][0]["wheels"][0]["name"].endswith("-mkl.whl"), "the original is untouched"


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.update({"lock-version": "2.0"}), "lock-version 2.0 is not supported"),
        (lambda d: d.pop("created-by"), "created-by"),
        (lambda d: d["packages"][0].pop("variants-json"), "no [packages.variants-json]"),
        (lambda d: d["packages"][0]["variants-json"]["variants"].pop("mkl"), "no entry for listed label 'mkl'"),
        (lambda d: d["packages"][0]["variants-json"].update({"$schema": "https://x/v9.0.0.json"}), "unsupported variant metadata schema"),
        (lambda d: d["packages"][0]["wheels"][0].update({"name": "numpy-2.3.0-py3-none-any-MKL.whl"}), "invalid variant label"),
        (lambda d: d["packages"][0]["wheels"][0].update({"name": "scipy-2.3.0-py3-none-any-mkl.whl"}), "not consistent with package name"),
        (lambda d: d["packages"][0]["wheels"][0].update({"hashes": {}}), "hashes"),
    ],
)
def test_invalid_locks_are_one_line_errors(change, message: str) -> None:
    data = _lock(_numpy())
    change(data)
    with pytest.raises(InputError) as info:
        validate(data, "pylock.toml")
    text = str(info.value)
    assert text.startswith("pylock.toml") and message in text and "\n" not in text


def test_toml_output_is_deterministic_and_quotes_keys_that_need_it() -> None:
    data = _lock(_numpy(labels=("mkl",)))
    data["packages"][0]["variants-json"]["variants"] = {"cuda12.6": {"nvidia": {"cuda": ["12.6"]}}}
    text = dumps(data)
    assert '"$schema" = ' in text and 'variants."cuda12.6"' in text
    assert text == dumps(copy.deepcopy(data))
    import tomllib

    assert tomllib.loads(text) == data


# -- selection at install time -----------------------------------------------------------------


def _tool(label: str, supported: list[str], unify=()) -> dict:
    return {
        "format": 1,
        "options": {"unify": list(unify)},
        "targets": {
            "default": {
                "marker": 'sys_platform == "linux"',
                "variants": {"blas_lapack": {"library": supported}},
                "packages": {"numpy": {"version": "2.3.0", "variant": label}},
            }
        },
    }


def test_selection_picks_the_best_listed_label_for_the_machine() -> None:
    doc = validate(_lock(_numpy()), "pylock.toml")
    supports = {"blas_lapack": {"library": ("openblas", "mkl")}}
    (chosen,) = plan(doc, _interp(), supports).selected
    assert chosen.label == "openblas" and chosen.file.filename.endswith("-openblas.whl")
    (chosen,) = plan(doc, _interp(), {"blas_lapack": {"library": ("mkl",)}}).selected
    assert chosen.label == "mkl"
    # Nothing supported: PEP 825 falls back to the non-variant wheel, which sorts after variants.
    (chosen,) = plan(doc, _interp(), {}).selected
    assert chosen.label is None and chosen.file.filename == "numpy-2.3.0-py3-none-any.whl"


def test_selection_refuses_an_unsupported_variant_without_fallback() -> None:
    doc = validate(_lock(_numpy(labels=("mkl",), plain=False)), "pylock.toml")
    with pytest.raises(InputError, match=r"no listed wheel of numpy fits this machine \(mkl needs blas_lapack :: library :: mkl\)"):
        plan(doc, _interp(), {"blas_lapack": {"library": ("openblas",)}})


def test_the_locked_label_is_kept_or_refused_never_swapped() -> None:
    data = _lock(_numpy(labels=("openblas",)), tool=_tool("openblas", ["mkl", "openblas"]))
    doc = validate(data, "pylock.toml")
    # Without --variants the machine is the lock's target: its recorded support applies.
    (chosen,) = plan(doc, _interp()).selected
    assert chosen.label == "openblas"
    # A machine without OpenBLAS: the fallback wheel would change the environment; refuse.
    with pytest.raises(InputError, match="refusing to install variant 'openblas' of numpy"):
        plan(doc, _interp(), {"blas_lapack": {"library": ("mkl",)}})


def test_unified_features_must_keep_a_common_value() -> None:
    scipy = _numpy(labels=("mkl",), plain=False)
    scipy["name"] = "scipy"
    scipy["wheels"] = [_wheel("scipy-1.0-py3-none-any-mkl.whl")]
    scipy["version"] = "1.0"
    numpy = _numpy(labels=("openblas",), plain=False)
    tool = _tool("openblas", ["mkl", "openblas"], unify=["blas_lapack :: library"])
    tool["targets"]["default"]["packages"]["scipy"] = {"version": "1.0", "variant": "mkl"}
    doc = validate(_lock(numpy, scipy, tool=tool), "pylock.toml")
    with pytest.raises(InputError, match=r"unify blas_lapack :: library: the selected wheels share no value"):
        plan(doc, _interp())


def test_pep751_steps_come_from_packaging_select() -> None:
    data = _lock(_numpy())
    data["requires-python"] = ">=3.12"
    with pytest.raises(InputError, match="does not satisfy the Python version requirement"):
        plan(validate(data, "pylock.toml"), _interp(), {})
    data = _lock(_numpy())
    data["environments"] = ['sys_platform == "win32"']
    with pytest.raises(InputError, match="environments"):
        plan(validate(data, "pylock.toml"), _interp(), {})
    # Two entries of one package whose markers both hold: ambiguous.
    data = _lock(_numpy(), _numpy())
    with pytest.raises(InputError, match="Multiple packages with the name 'numpy'"):
        plan(validate(data, "pylock.toml"), _interp(), {})
    # A marker that does not hold skips the entry.
    other = _numpy()
    other["marker"] = 'sys_platform == "darwin"'
    data = _lock(_numpy(), other)
    assert len(plan(validate(data, "pylock.toml"), _interp(), {}).selected) == 1


def test_wheel_entries_carry_upload_time_in_utc_and_only_guaranteed_hashes(tmp_path: Path) -> None:
    from datetime import datetime

    from varsolve.lockfile.writer import _file_fields
    from varsolve.repository import DistFile
    from varsolve.variants.filenames import parse_wheel

    name = "numpy-2.3.0-py3-none-any-mkl.whl"
    file = DistFile(
        name, parse_wheel(name), url=f"https://example.invalid/files/{name}",
        hashes={"SHA256": "AB" * 32, "blake2x": "00"}, size=7, upload_time="2025-01-02T03:04:05.123456Z",
    )
    fields = _file_fields(file, tmp_path)
    assert fields["upload_time"] == datetime(2025, 1, 2, 3, 4, 5, 123456, tzinfo=UTC)
    assert fields["url"].startswith("https://") and fields["path"] is None
    assert fields["hashes"] == {"sha256": "ab" * 32} and fields["size"] == 7
    assert "upload-time = 2025-01-02 03:04:05.123456+00:00" in dumps({"w": [{"upload-time": fields["upload_time"]}]})
