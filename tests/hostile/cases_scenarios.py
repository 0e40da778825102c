"""Scenario files: malformed, deeply nested, of the wrong types, or ambiguous once normalised."""

from __future__ import annotations

from pathlib import Path

from hostile.corpus import CLEAN, DATA_LOSS, WRONG, Outcome, case, expect_clean_error, varsolve

CATEGORY = "scenario files"


def _resolve(tmp: Path, text: str, *names: str) -> Outcome:
    path = tmp / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    return expect_clean_error(varsolve("resolve", "--scenario", str(path), cwd=tmp), names=[str(path), *names])


@case(CATEGORY, "TOML nested 100,000 arrays deep")
def nesting_bomb(tmp: Path) -> Outcome:
    return _resolve(tmp, "x = " + "[" * 100_000 + "]" * 100_000 + "\n")


@case(CATEGORY, "python written as a TOML float (3.10)")
def python_float(tmp: Path) -> Outcome:
    return _resolve(tmp, '[environment]\npython = 3.10\n[root]\nrequires = ["a"]\n[packages.a.versions."1.0.0"]\n', "python")


@case(CATEGORY, "a package name that is not a string")
def name_not_a_string(tmp: Path) -> Outcome:
    return _resolve(tmp, 'name = 1\n[root]\nrequires = ["a"]\n[packages.a.versions."1.0.0"]\n', "name")


@case(CATEGORY, "universal = \"yes\"")
def universal_string(tmp: Path) -> Outcome:
    text = '[resolver_options]\nuniversal = "yes"\n[root]\nrequires = ["a"]\n[packages.a.versions."1.0.0"]\n'
    return _resolve(tmp, text, "universal")


@case(CATEGORY, "two versions that normalise to one (1.0 and 1.0.0)")
def duplicate_versions(tmp: Path) -> Outcome:
    text = '[root]\nrequires = ["a"]\n[packages.a.versions."1.0"]\n[packages.a.versions."1.0.0"]\n'
    return _resolve(tmp, text, "1.0", "1.0.0")


@case(CATEGORY, "two names that normalise to one (Foo_Bar and foo-bar)")
def duplicate_names(tmp: Path) -> Outcome:
    text = '[root]\nrequires = ["foo-bar"]\n[packages.Foo_Bar.versions."1.0.0"]\n[packages.foo-bar.versions."1.0.0"]\n'
    return _resolve(tmp, text, "Foo_Bar", "foo-bar")


@case(CATEGORY, "a variant label with a trailing newline")
def label_newline(tmp: Path) -> Outcome:
    text = (
        '[root]\nrequires = ["a"]\n[packages.a.versions."1.0.0".variants]\n'
        '"mkl\\n" = ["blas_lapack :: library :: mkl"]\n'
    )
    return _resolve(tmp, text, "mkl")


@case(CATEGORY, "an empty extra name")
def empty_extra(tmp: Path) -> Outcome:
    text = '[root]\nrequires = ["a"]\n[packages.a.versions."1.0.0".extras]\n"" = ["b"]\n[packages.b.versions."1.0.0"]\n'
    return _resolve(tmp, text, "extras")


@case(CATEGORY, "not UTF-8")
def not_utf8(tmp: Path) -> Outcome:
    path = tmp / "scenario.toml"
    path.write_bytes(b"[root]\nrequires = [\"caf\xe9\"]\n")
    return expect_clean_error(varsolve("resolve", "--scenario", str(path), cwd=tmp), names=[str(path)])


@case(CATEGORY, "TOML nested 100,000 inline tables deep")
def inline_table_bomb(tmp: Path) -> Outcome:
    return _resolve(tmp, "x = " + "{a = " * 100_000 + "1" + "}" * 100_000 + "\n", "nested too deeply")


@case(CATEGORY, "a dotted key of 100,000 parts (tomllib wants tens of GB for it)")
def dotted_key_bomb(tmp: Path) -> Outcome:
    return _resolve(tmp, "a" + ".a" * 100_000 + " = 1\n", "nested too deeply")


@case(CATEGORY, "an integer of 5,000 digits")
def huge_integer(tmp: Path) -> Outcome:
    return _resolve(tmp, "[resolver_options]\nprereleases = " + "1" * 5000 + "\n")


@case(CATEGORY, "description = [...]")
def description_list(tmp: Path) -> Outcome:
    return _resolve(tmp, 'description = ["a", "b"]\n[root]\nrequires = ["a"]\n[packages.a.versions."1.0.0"]\n', "description")


@case(CATEGORY, "a release's description that is not a string")
def release_description_table(tmp: Path) -> Outcome:
    text = '[root]\nrequires = ["a"]\n[packages.a.versions."1.0.0"]\ndescription = {x = 1}\n'
    return _resolve(tmp, text, 'packages.a.versions."1.0.0".description')


@case(CATEGORY, "additional_python = [3]")
def additional_python_number(tmp: Path) -> Outcome:
    text = '[environment]\nadditional_python = [3]\n[root]\nrequires = ["a"]\n[packages.a.versions."1.0.0"]\n'
    return _resolve(tmp, text, "environment.additional_python")


@case(CATEGORY, "requires_python = [...] on a release")
def requires_python_list(tmp: Path) -> Outcome:
    text = '[root]\nrequires = ["a"]\n[packages.a.versions."1.0.0"]\nrequires_python = []\n'
    return _resolve(tmp, text, 'packages.a.versions."1.0.0".requires_python')


@case(CATEGORY, "root.requires_python = [...]")
def root_requires_python_list(tmp: Path) -> Outcome:
    text = '[root]\nrequires = ["a"]\nrequires_python = [">=3.8"]\n[packages.a.versions."1.0.0"]\n'
    return _resolve(tmp, text, "root.requires_python")


@case(CATEGORY, "required_environments holding a bad marker")
def required_environments_bad(tmp: Path) -> Outcome:
    text = '[resolver_options]\nrequired_environments = ["sys_platform ="]\n[root]\nrequires = ["a"]\n[packages.a.versions."1.0.0"]\n'
    return _resolve(tmp, text, "resolver_options.required_environments")


@case(CATEGORY, "an extra name that injects a marker into the built METADATA")
def extra_injects_marker(tmp: Path) -> Outcome:
    text = (
        '[root]\nrequires = ["a"]\n[packages.a.versions."1.0.0".extras]\n'
        '\'x" or "1" == "1\' = ["b"]\n[packages.b.versions."1.0.0"]\n'
    )
    path = tmp / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    return expect_clean_error(varsolve("index", "build", str(path), "-o", str(tmp / "index"), cwd=tmp), names=[str(path), "extras"])


@case(CATEGORY, "two extras that normalise to one (Fast_Math and fast-math)")
def duplicate_extras(tmp: Path) -> Outcome:
    text = (
        '[root]\nrequires = ["a"]\n[packages.a.versions."1.0.0".extras]\n'
        'Fast_Math = ["b"]\nfast-math = ["c"]\n[packages.b.versions."1.0.0"]\n[packages.c.versions."1.0.0"]\n'
    )
    return _resolve(tmp, text, "Fast_Math", "fast-math")


@case(CATEGORY, "a package name that is not a name (a space and a newline)")
def package_name_invalid(tmp: Path) -> Outcome:
    text = '[root]\nrequires = ["a"]\n[packages."a b\\n".versions."1.0.0"]\n'
    return _resolve(tmp, text, "packages.")


@case(CATEGORY, "a supported value with a trailing newline")
def supported_value_newline(tmp: Path) -> Outcome:
    text = (
        '[environment.variants]\n"blas_lapack :: library" = ["mkl\\n"]\n'
        '[root]\nrequires = ["a"]\n[packages.a.versions."1.0.0".variants]\nmkl = ["blas_lapack :: library :: mkl"]\n'
    )
    return _resolve(tmp, text, "environment.variants")


@case(CATEGORY, "a variant property with a trailing newline")
def property_newline(tmp: Path) -> Outcome:
    text = (
        '[root]\nrequires = ["a"]\n[packages.a.versions."1.0.0".variants]\n'
        'mkl = ["blas_lapack :: library :: mkl\\n"]\n'
    )
    return _resolve(tmp, text, "variants.mkl")


@case(CATEGORY, "index build: a label with a trailing newline (file names with a newline)")
def index_label_newline(tmp: Path) -> Outcome:
    path = tmp / "scenario.toml"
    path.write_text('[packages.a.versions."1.0.0".variants]\n"mkl\\n" = ["blas_lapack :: library :: mkl"]\n', encoding="utf-8")
    outcome = expect_clean_error(varsolve("index", "build", str(path), "-o", str(tmp / "index"), cwd=tmp), names=[str(path)])
    if outcome.kind == CLEAN and (tmp / "index").exists():
        return Outcome(DATA_LOSS, f"an index was written: {sorted(p.name for p in (tmp / 'index').rglob('*'))}")
    return outcome


@case(CATEGORY, "index build: a label of 100,000 characters")
def index_label_huge(tmp: Path) -> Outcome:
    path = tmp / "scenario.toml"
    path.write_text(f'[packages.a.versions."1.0.0".variants]\n{"x" * 100_000} = ["blas_lapack :: library :: mkl"]\n', encoding="utf-8")
    proc = varsolve("index", "build", str(path), "-o", str(tmp / "index"), cwd=tmp)
    outcome = expect_clean_error(proc, names=[str(path), "variants"])
    if outcome.kind == CLEAN and len(outcome.detail) > 1000:
        return Outcome(WRONG, f"an error line of {len(outcome.detail)} characters")
    return outcome


@case(CATEGORY, "expected.packages naming one package twice (Foo and foo)")
def expected_duplicate(tmp: Path) -> Outcome:
    text = '[root]\nrequires = ["foo"]\n[packages.foo.versions."1.0.0"]\n[expected.packages]\nFoo = "1.0.0"\nfoo = "2.0.0"\n'
    path = tmp / "scenario.toml"
    path.write_text(text, encoding="utf-8")
    return expect_clean_error(varsolve("scenario", "check", str(path), cwd=tmp), names=[str(path), "Foo", "foo"])


@case(CATEGORY, "a scenario larger than the text file limit (/dev/zero)")
def endless_file(tmp: Path) -> Outcome:
    if not Path("/dev/zero").exists():
        return Outcome(CLEAN, "no /dev/zero here")
    return expect_clean_error(varsolve("resolve", "--scenario", "/dev/zero", cwd=tmp, timeout=60), names=["/dev/zero", "larger than"])


@case(CATEGORY, "index build: a requirement with a trailing newline (ends the built METADATA's headers)")
def requirement_newline(tmp: Path) -> Outcome:
    path = tmp / "scenario.toml"
    path.write_text('[packages.a.versions."1.0.0"]\nrequires = ["b\\n", "c"]\n[packages.b.versions."1.0.0"]\n[packages.c.versions."1.0.0"]\n')
    outcome = expect_clean_error(varsolve("index", "build", str(path), "-o", str(tmp / "index"), cwd=tmp), names=[str(path), "requires"])
    if outcome.kind == CLEAN and (tmp / "index").exists():
        return Outcome(DATA_LOSS, "an index was written")
    return outcome


_UNIVERSAL = '[root]\nrequires = ["a"]\n[resolver_options]\nuniversal = true\n{extra}[packages.a.versions."1.0.0"]\n'


@case(CATEGORY, "universal: required_environments that contradict requires-python")
def universal_environments_contradict(tmp: Path) -> Outcome:
    text = _UNIVERSAL.format(extra="required_environments = [\"python_version < '3.9'\"]\n")
    return _resolve(tmp, text, "required_environments[0]", "requires-python")


@case(CATEGORY, "universal: a required environment that can never be true")
def universal_environment_never_true(tmp: Path) -> Outcome:
    text = _UNIVERSAL.format(extra="required_environments = [\"os_name == 'nt' and os_name == 'posix'\"]\n")
    return _resolve(tmp, text, "required_environments[0]", "never be true")


@case(CATEGORY, "universal: a required environment repeated")
def universal_environment_repeated(tmp: Path) -> Outcome:
    text = _UNIVERSAL.format(extra="required_environments = [\"os_name == 'nt'\", \"os_name == 'nt'\"]\n")
    return _resolve(tmp, text, "required_environments[1]", "adds no environment")


@case(CATEGORY, "universal: variant targets given as an array")
def universal_targets_array(tmp: Path) -> Outcome:
    text = _UNIVERSAL.format(extra="") + "[environment]\ntargets = [1]\n"
    return _resolve(tmp, text, "environment.targets")


@case(CATEGORY, "universal: a variant target with a dotted name")
def universal_target_name(tmp: Path) -> Outcome:
    text = _UNIVERSAL.format(extra="") + '[environment.targets."a.b"]\n'
    return _resolve(tmp, text, "a.b")


@case(CATEGORY, "universal: two target files with one name (--target)")
def universal_duplicate_target_files(tmp: Path) -> Outcome:
    path = tmp / "scenario.toml"
    path.write_text(_UNIVERSAL.format(extra=""), encoding="utf-8")
    for stem in ("one", "two"):
        (tmp / f"{stem}.toml").write_text('name = "gpu"\n', encoding="utf-8")
    proc = varsolve("resolve", "--scenario", str(path), "--target", "one.toml", "--target", "two.toml", cwd=tmp)
    return expect_clean_error(proc, names=["gpu"])
