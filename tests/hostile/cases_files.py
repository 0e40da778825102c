"""Provider and target files (``--variants``, ``--target``, ``--nvidia-from``, ``--cpuinfo``),
requirement files (``-r``, ``-c``) and command-line options: nesting bombs, endless and binary
files, values with newlines, numbers that are not numbers of seconds."""

from __future__ import annotations

from pathlib import Path

from hostile.corpus import CLEAN, Outcome, case, expect_clean_error, varsolve

FILES = "provider and target files"
OPTIONS = "requirements and options"

NESTED_TOML = "x = " + "[" * 100_000 + "]" * 100_000 + "\n"
NESTED_JSON = '{"provider": ' + "[" * 100_000 + "]" * 100_000 + "}\n"
DOTTED_TOML = "a" + ".a" * 100_000 + " = 1\n"
STATIC = '[[provider]]\nnamespace = "x86_64"\n[provider.properties]\n'


def _write(tmp: Path, name: str, text: str | bytes) -> Path:
    path = tmp / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _links(tmp: Path) -> str:
    folder = tmp / "links"
    folder.mkdir(exist_ok=True)
    return str(folder)


def _variants(tmp: Path, name: str, text: str, *names: str) -> Outcome:
    path = _write(tmp, name, text)
    proc = varsolve("resolve", "a", "--find-links", _links(tmp), "--variants", str(path), cwd=tmp)
    return expect_clean_error(proc, names=[str(path), *names])


def _target(tmp: Path, text: str, *names: str) -> Outcome:
    path = _write(tmp, "target.toml", text)
    proc = varsolve("lock", "a", "--find-links", _links(tmp), "--target", str(path), "-o", str(tmp / "pylock.toml"), cwd=tmp)
    outcome = expect_clean_error(proc, names=[str(path), *names])
    if outcome.kind == CLEAN and (tmp / "pylock.toml").exists():
        return Outcome("wrong", "a lock was written")
    return outcome


def _endless(tmp: Path, *args: str) -> Outcome:
    if not Path("/dev/zero").exists():
        return Outcome(CLEAN, "no /dev/zero here")
    return expect_clean_error(varsolve(*args, cwd=tmp, timeout=60), names=["/dev/zero", "larger than"])


# -- provider and target files -------------------------------------------------------------------


@case(FILES, "--variants: TOML nested 100,000 arrays deep")
def variants_toml_bomb(tmp: Path) -> Outcome:
    return _variants(tmp, "variants.toml", NESTED_TOML, "nested too deeply")


@case(FILES, "--variants: JSON nested 100,000 arrays deep")
def variants_json_bomb(tmp: Path) -> Outcome:
    return _variants(tmp, "variants.json", NESTED_JSON, "nested too deeply")


@case(FILES, "--variants: a dotted key of 100,000 parts")
def variants_dotted_bomb(tmp: Path) -> Outcome:
    return _variants(tmp, "variants.toml", DOTTED_TOML, "nested too deeply")


@case(FILES, "--variants: a feature name with a newline")
def variants_feature_newline(tmp: Path) -> Outcome:
    return _variants(tmp, "variants.toml", STATIC + '"level\\n" = ["v3"]\n', "provider[0].properties")


@case(FILES, "--variants: a value with a trailing newline")
def variants_value_newline(tmp: Path) -> Outcome:
    return _variants(tmp, "variants.toml", STATIC + 'level = ["v3\\n"]\n', "provider[0].properties.level")


@case(FILES, "--variants: a namespace with a trailing newline")
def variants_namespace_newline(tmp: Path) -> Outcome:
    return _variants(tmp, "variants.toml", '[[provider]]\nnamespace = "x86_64\\n"\n', "provider[0].namespace")


@case(FILES, "--variants: provider as a table, not an array of tables")
def variants_provider_table(tmp: Path) -> Outcome:
    return _variants(tmp, "variants.toml", '[provider]\nnamespace = "x86_64"\n', "provider")


@case(FILES, "--variants: an endless file (/dev/zero)")
def variants_endless(tmp: Path) -> Outcome:
    return _endless(tmp, "resolve", "a", "--find-links", _links(tmp), "--variants", "/dev/zero")


@case(FILES, "--target: TOML nested 100,000 arrays deep")
def target_bomb(tmp: Path) -> Outcome:
    return _target(tmp, NESTED_TOML, "nested too deeply")


@case(FILES, "--target: a dotted key of 100,000 parts")
def target_dotted_bomb(tmp: Path) -> Outcome:
    return _target(tmp, DOTTED_TOML, "nested too deeply")


@case(FILES, "--target: python written as a TOML float (3.10)")
def target_python_float(tmp: Path) -> Outcome:
    return _target(tmp, "python = 3.10\n", "python")


@case(FILES, "--target: enable = [1]")
def target_enable_integer(tmp: Path) -> Outcome:
    return _target(tmp, "enable = [1]\n", "enable")


@case(FILES, "--target: a name with a trailing newline (pylock.<name>.toml)")
def target_name_newline(tmp: Path) -> Outcome:
    return _target(tmp, 'name = "gpu\\n"\n', "target name")


@case(FILES, "--nvidia-from: JSON nested 100,000 objects deep")
def nvidia_json_bomb(tmp: Path) -> Outcome:
    path = _write(tmp, "nvml.json", '{"devices": ' + '{"a": ' * 100_000 + "1" + "}" * 100_000 + "}")
    return expect_clean_error(varsolve("detect", "--nvidia-from", str(path), cwd=tmp), names=[str(path), "nested too deeply"])


@case(FILES, "--nvidia-from: an endless file (/dev/zero)")
def nvidia_endless(tmp: Path) -> Outcome:
    return _endless(tmp, "detect", "--nvidia-from", "/dev/zero")


@case(FILES, "--cpuinfo: an endless file (/dev/zero)")
def cpuinfo_endless(tmp: Path) -> Outcome:
    return _endless(tmp, "detect", "--cpuinfo", "/dev/zero")


# -- requirements and options ----------------------------------------------------------------------


def _requirements(tmp: Path, option: str, path: Path | str, *names: str) -> Outcome:
    proc = varsolve("resolve", option, str(path), "--find-links", _links(tmp), cwd=tmp)
    return expect_clean_error(proc, names=[str(path), *names])


@case(OPTIONS, "-r on a binary file (NUL bytes, otherwise UTF-8)")
def requirements_binary(tmp: Path) -> Outcome:
    return _requirements(tmp, "-r", _write(tmp, "requirements.bin", b"a\0\0\0\x01\x02\nb\n"), "binary")


@case(OPTIONS, "-c on a binary file")
def constraints_binary(tmp: Path) -> Outcome:
    return _requirements(tmp, "-c", _write(tmp, "constraints.bin", b"\0" * 100 + b"a==1\n"), "binary")


@case(OPTIONS, "-r on a wheel (a zip file)")
def requirements_zip(tmp: Path) -> Outcome:
    import zipfile

    path = tmp / "a-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("a/__init__.py", "x = 1\n" * 100)
    return _requirements(tmp, "-r", path, "cannot read")


@case(OPTIONS, "-r naming a nested file whose path holds a NUL byte (os.path.realpath raised)")
def requirements_nul_path(tmp: Path) -> Outcome:
    return _requirements(tmp, "-r", _write(tmp, "requirements.txt", "-r a\0b.txt\n"), "binary")


@case(OPTIONS, "-r on an endless file (/dev/zero)")
def requirements_endless(tmp: Path) -> Outcome:
    return _endless(tmp, "resolve", "-r", "/dev/zero", "--find-links", _links(tmp))


@case(OPTIONS, "-r pyproject.toml nested 100,000 arrays deep")
def pyproject_bomb(tmp: Path) -> Outcome:
    return _requirements(tmp, "-r", _write(tmp, "pyproject.toml", NESTED_TOML), "nested too deeply")


@case(OPTIONS, "-r pyproject.toml with a dotted key of 100,000 parts")
def pyproject_dotted_bomb(tmp: Path) -> Outcome:
    return _requirements(tmp, "-r", _write(tmp, "pyproject.toml", DOTTED_TOML), "nested too deeply")


@case(OPTIONS, "./pyproject.toml nested 100,000 deep, read for --allow-project-providers")
def cwd_pyproject_bomb(tmp: Path) -> Outcome:
    path = _write(tmp, "pyproject.toml", NESTED_TOML)
    proc = varsolve("resolve", "a", "--find-links", _links(tmp), "--allow-project-providers", cwd=tmp)
    return expect_clean_error(proc, names=[path.name, "nested too deeply"])


def _option(tmp: Path, *args: str) -> Outcome:
    proc = varsolve("resolve", "a", "--index-url", "http://127.0.0.1:9/simple", *args, cwd=tmp)
    return expect_clean_error(proc, names=[args[0].split("=")[0]])


@case(OPTIONS, "--timeout -1")
def timeout_negative(tmp: Path) -> Outcome:
    return _option(tmp, "--timeout=-1")


@case(OPTIONS, "--timeout nan")
def timeout_nan(tmp: Path) -> Outcome:
    return _option(tmp, "--timeout", "nan")


@case(OPTIONS, "--timeout inf")
def timeout_inf(tmp: Path) -> Outcome:
    return _option(tmp, "--timeout", "inf")


@case(OPTIONS, "--retries -1")
def retries_negative(tmp: Path) -> Outcome:
    return _option(tmp, "--retries=-1")


@case(OPTIONS, "--build-timeout inf")
def build_timeout_inf(tmp: Path) -> Outcome:
    return _option(tmp, "--build-timeout", "inf")


@case(OPTIONS, "--build-timeout 0")
def build_timeout_zero(tmp: Path) -> Outcome:
    return _option(tmp, "--build-timeout", "0")
