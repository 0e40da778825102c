"""Third-party variant provider plugins (PEP 850 step 5, digest 3.1/3.2).

A plugin is code from an index that inspects the machine. varsolve runs one only when the user
allowed every distribution the provider's ``requires`` names (``--allow-provider NAME``, or
``[tool.varsolve] allow-providers`` in pyproject.toml together with ``--allow-project-providers``),
and never when a requirement is a direct URL (``name @ https://...``): allowing a name allows that
distribution from the user's own sources, not from wherever the metadata points. Otherwise it is
never installed nor imported: the namespace counts as unsupported and one warning says why.

An allowed plugin is installed with only non-variant wheels (``--only-binary :all:``, by uv or
pip, neither of which picks variant wheels) into its own virtual environment, cached under
``plugins/<hash>`` of varsolve's cache (:func:`varsolve.sources.cache.default_cache_dir`,
``$VARSOLVE_CACHE_DIR`` or ``~/.cache/varsolve``), and its ``get_supported_configs()`` is called in a
subprocess (``python -I``) with a timeout, a scrubbed environment (:func:`plugin_environ`: no
tokens or credentials of the caller) and no pipe to wait on; when it ends or times out, every
process it started is killed, also those that left its process group (:func:`_kill_tree`). The
answer is cached for the rest of the process.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from ..errors import VarsolveError
from ..target import ProviderPolicy
from ..variants.metadata import Provider
from ..variants.properties import FEATURE_RE, VALUE_RE

log = logging.getLogger("varsolve")

Features = dict[str, tuple[str, ...]]
PLUGIN_API_RE = re.compile(r"^[A-Za-z0-9._]+( *: *[A-Za-z0-9._]+)?$")
INSTALL_TIMEOUT = 600.0
_CACHE_FORMAT = 1


class ProviderError(VarsolveError):
    """A variant provider that cannot be installed or run, or answered nonsense."""


@dataclass(frozen=True)
class PluginSpec:
    namespace: str
    requirements: tuple[str, ...]  # those whose markers hold on this machine, as written
    distributions: tuple[str, ...]  # their normalized names
    plugin_api: str  # "module(:object.path)?"
    # Direct URLs (PEP 508 ``name @ URL``) among the requirements: never installed.
    urls: tuple[str, ...] = ()

    def describe(self) -> str:
        return f"variant provider {self.namespace!r} (plugin {', '.join(self.distributions)})"


def plugin_spec(namespace: str, provider: Provider) -> PluginSpec | None:
    """The plugin ``provider`` names for this machine, None when no requirement applies here.

    Markers in ``requires`` are evaluated for the machine the plugin runs on, which is this one.
    """
    kept: list[Requirement] = []
    for text in provider.requires:
        try:
            req = Requirement(text)
        except InvalidRequirement as exc:
            raise ProviderError(f"variant provider {namespace!r}: invalid requirement {text!r} in requires: {exc}") from None
        if req.marker is None or req.marker.evaluate({"extra": ""}):
            kept.append(req)
    if not kept:
        return None
    names = tuple(canonicalize_name(r.name) for r in kept)
    # PEP 850: the default endpoint is the first surviving requirement's module.
    api = provider.plugin_api or names[0].replace("-", "_")
    if not PLUGIN_API_RE.fullmatch(api):
        raise ProviderError(f"variant provider {namespace!r}: invalid plugin-api {api!r}")
    urls = tuple(r.url for r in kept if r.url)
    return PluginSpec(namespace, tuple(str(r) for r in kept), names, api.replace(" ", ""), urls)


def disallowed(spec: PluginSpec, policy: ProviderPolicy) -> list[str]:
    """The distributions of ``spec`` that may not run: those the user did not allow, and every
    one when a requirement is a direct URL (the metadata does not choose where code comes from)."""
    if spec.urls:
        return list(spec.distributions)
    return [name for name in spec.distributions if name not in policy.allow]


_WARNED: set[tuple[str, tuple[str, ...]]] = set()


def warn_skipped(spec: PluginSpec, missing: list[str], detectable: bool = False) -> None:
    """One line per provider and run: what was skipped and how to allow it (or, for a plugin
    varsolve reimplements, how to use its own detector instead)."""
    key = (spec.namespace, spec.distributions)
    if key in _WARNED:
        return
    _WARNED.add(key)
    if spec.urls:
        log.warning(
            "skipped %s: its requires names a direct URL (%s), and plugins are installed only from your own "
            "sources, never from a URL the metadata chooses; nothing in %r counts as supported",
            spec.describe(), spec.urls[0][:200], spec.namespace,
        )
        return
    flags = " ".join(f"--allow-provider {name}" for name in missing)
    instead = "; or use --detect for varsolve's own detector" if detectable else ""
    log.warning(
        "skipped %s: it is not allowed, so nothing in %r counts as supported "
        "(allow it with %s, or allow-providers in [tool.varsolve] of pyproject.toml with --allow-project-providers%s)",
        spec.describe(), spec.namespace, flags, instead,
    )


# -- running -----------------------------------------------------------------------------------
# (find-links, index URL, extra index URLs) of a ProviderPolicy
_Sources = tuple[tuple[str, ...], str | None, tuple[str, ...]]
_RESULTS: dict[tuple[PluginSpec, _Sources], Features] = {}


def supported_from_plugin(spec: PluginSpec, policy: ProviderPolicy) -> Features:
    """The plugin's answer, installing and running it on first use. The caller checked that
    the user allowed it."""
    if spec.urls:  # never, whoever asks (disallowed() says so too)
        raise ProviderError(f"{spec.describe()}: a direct URL ({spec.urls[0][:200]}) is never installed")
    key = (spec, _sources(policy))
    if key not in _RESULTS:
        python = plugin_environment(spec, policy)
        _RESULTS[key] = run_plugin(python, spec, policy.timeout)
    return _RESULTS[key]


def clear_caches() -> None:
    """Forget plugin answers and warnings (the next run asks again)."""
    _RESULTS.clear()
    _WARNED.clear()


def _sources(policy: ProviderPolicy) -> _Sources:
    links = tuple(_absolute(link) for link in policy.find_links)
    return (links, policy.index_url, policy.extra_index_urls)


def _absolute(link: str) -> str:
    return link if "://" in link else str(Path(link).resolve())


def _venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def plugin_environment(spec: PluginSpec, policy: ProviderPolicy) -> Path:
    """The Python of the plugin's cached environment, creating it when missing."""
    key = json.dumps(
        {
            "format": _CACHE_FORMAT,
            "requirements": sorted(spec.requirements),
            "sources": _sources(policy),
            "python": sys.version,
            "executable": sys.executable,
        },
        sort_keys=True,
    )
    from ..sources.cache import default_cache_dir

    root = default_cache_dir() / "plugins"
    venv = root / hashlib.sha256(key.encode()).hexdigest()[:32]
    if _venv_python(venv).exists():
        return _venv_python(venv)
    root.mkdir(parents=True, exist_ok=True)
    # Built aside and renamed into place, so an interrupted install never looks complete.
    tmp = Path(tempfile.mkdtemp(prefix=".build-", dir=root))
    try:
        _install(tmp / "venv", spec, policy)
        (tmp / "venv" / "varsolve-plugin.json").write_text(key + "\n", encoding="utf-8")
        try:
            os.replace(tmp / "venv", venv)
        except OSError:
            if not _venv_python(venv).exists():  # not a concurrent run that finished first
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return _venv_python(venv)


def _installer() -> str | None:
    """The uv executable to install plugins with, or ``None`` for pip."""
    choice = os.environ.get("VARSOLVE_PLUGIN_INSTALLER", "")
    uv = shutil.which("uv") or shutil.which("uv", path=str(Path(sys.executable).parent))
    if choice == "pip" or (choice != "uv" and uv is None):
        return None
    if uv is None:
        raise ProviderError("VARSOLVE_PLUGIN_INSTALLER=uv, but uv is not on PATH")
    return uv


def _install(venv: Path, spec: PluginSpec, policy: ProviderPolicy) -> None:
    uv = _installer()
    kind = "pip" if uv is None else "uv"
    python = _venv_python(venv)
    source_args: list[str] = ["--only-binary", ":all:"]
    for link in policy.find_links:
        source_args += ["--find-links", _absolute(link)]
    if policy.index_url:
        source_args += ["--index-url", policy.index_url]
    elif policy.find_links:
        source_args.append("--no-index")
    for url in policy.extra_index_urls:
        source_args += ["--extra-index-url", url]
    if uv is not None:
        steps = [
            [uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
            [uv, "pip", "install", "--quiet", "--python", str(python), *source_args, *spec.requirements],
        ]
    else:
        steps = [
            [sys.executable, "-m", "venv", "--without-pip", str(venv)],
            [
                sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                "--disable-pip-version-check", "--no-input", *source_args, *spec.requirements,
            ],
        ]
    for command in steps:
        try:
            proc = subprocess.run(
                command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, stdin=subprocess.DEVNULL, check=False
            )
        except subprocess.TimeoutExpired:
            raise ProviderError(f"{spec.describe()}: installing it took longer than {INSTALL_TIMEOUT:g} s") from None
        except OSError as exc:
            raise ProviderError(f"{spec.describe()}: cannot run {command[0]}: {exc.strerror}") from None
        if proc.returncode != 0:
            raise ProviderError(f"{spec.describe()}: cannot be installed with {kind}: {_last_line(proc.stderr or proc.stdout)}")


# Runs inside the plugin's environment. Stays small: imports the endpoint, instantiates a class
# (PEP 850 allows classes, instances, modules), calls get_supported_configs() (passing None for
# the ``known_properties`` argument older plugins take) and writes plain JSON to a file, so that
# whatever the plugin prints cannot corrupt the answer.
_RUNNER = r"""
import importlib, inspect, json, sys
api, out = sys.argv[1], sys.argv[2]
module, _, path = api.partition(":")
obj = importlib.import_module(module)
for part in filter(None, path.split(".")):
    obj = getattr(obj, part)
if inspect.isclass(obj):
    obj = obj()
fn = obj.get_supported_configs
required = [p for p in inspect.signature(fn).parameters.values()
            if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
result = fn(*[None] * len(required))

def plain(x):
    if isinstance(x, (str, int, float, bool)) or x is None:
        return x
    if isinstance(x, (list, tuple)):
        return [plain(v) for v in x]
    return repr(x)

def config(item):
    if isinstance(item, dict):
        return {k: plain(item.get(k)) for k in ("name", "values")}
    return {k: plain(getattr(item, k, None)) for k in ("name", "values")}

answer = [config(i) for i in result] if isinstance(result, (list, tuple)) else plain(result)
with open(out, "w", encoding="utf-8") as f:
    json.dump({"configs": answer}, f)
"""


# What a plugin sees of the caller's environment: what finds programs, libraries and devices and
# sets the locale, never tokens, credentials, index URLs or proxies (PLUGIN_ENV_PREFIXES: the
# hardware stacks' own variables). VARSOLVE_PLUGIN_ENV="NAME,NAME" passes further names through.
PLUGIN_ENV_NAMES = frozenset({
    "PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TERM", "TMPDIR", "TEMP", "TMP",
    "LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH", "DYLD_FALLBACK_LIBRARY_PATH",
    "SYSTEMROOT", "SYSTEMDRIVE", "WINDIR", "COMSPEC", "PATHEXT", "PROGRAMFILES", "PROGRAMDATA", "NUMBER_OF_PROCESSORS",
    "PROCESSOR_ARCHITECTURE", "PROCESSOR_IDENTIFIER",
})
PLUGIN_ENV_PREFIXES = ("LC_", "CUDA_", "NVIDIA_", "NV_", "ROCM_", "HIP_", "HSA_")
PASS_ENV = "VARSOLVE_PLUGIN_ENV"
_RUN_TOKEN = "VARSOLVE_PLUGIN_RUN"  # marks every process of one plugin run (_kill_tree)
_STDERR_TAIL = 64 * 1024


def plugin_environ(environ: dict[str, str] | None = None, token: str = "") -> dict[str, str]:
    """The environment a plugin runs with: :data:`PLUGIN_ENV_NAMES`, :data:`PLUGIN_ENV_PREFIXES`
    and the names ``$VARSOLVE_PLUGIN_ENV`` lists, of ``environ`` (default: this process's)."""
    environ = dict(os.environ if environ is None else environ)
    extra = {name.strip() for name in environ.get(PASS_ENV, "").split(",") if name.strip()}
    kept = {
        name: value for name, value in environ.items()
        if name.upper() in PLUGIN_ENV_NAMES or name.upper().startswith(PLUGIN_ENV_PREFIXES) or name in extra
    }
    if token:
        kept[_RUN_TOKEN] = token
    return kept


def run_plugin(python: Path, spec: PluginSpec, timeout: float) -> Features:
    from ..limits import MAX_METADATA, TooLarge, read_text_capped

    with tempfile.TemporaryDirectory(prefix="varsolve-plugin-") as tmp:
        out = Path(tmp) / "answer.json"
        errors = Path(tmp) / "stderr.txt"
        command = [str(python), "-I", "-c", _RUNNER, spec.plugin_api, str(out)]
        token = f"{os.getpid()}-{os.urandom(8).hex()}"
        # No pipes: a process the plugin leaves behind may hold them open for ever, and waiting for
        # their end would outlast the timeout. stderr goes to a file, read once the plugin is gone.
        with open(errors, "wb") as stderr_file:
            try:
                proc = subprocess.Popen(
                    command, cwd=tmp, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr_file,
                    env=plugin_environ(token=token), start_new_session=sys.platform != "win32",
                )
            except OSError as exc:
                raise ProviderError(f"{spec.describe()}: cannot start its environment's Python: {exc.strerror}") from None
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise ProviderError(
                f"{spec.describe()}: get_supported_configs() did not answer within {timeout:g} s"
            ) from None
        finally:
            _kill_tree(proc, token)  # what it started is not left running, answer or not
        if proc.returncode != 0:
            raise ProviderError(f"{spec.describe()}: get_supported_configs() failed: {_last_line(_tail(errors))}")
        try:
            text = read_text_capped(str(out), MAX_METADATA).decode("utf-8")
        except (OSError, UnicodeDecodeError, TooLarge):
            raise ProviderError(f"{spec.describe()}: get_supported_configs() gave no answer") from None
        data = _answer(spec, text)
    return validate_configs(spec, data.get("configs") if isinstance(data, dict) else None)


def _answer(spec: PluginSpec, text: str) -> object:
    from ..errors import InputError
    from ..structured import load_json

    try:
        return load_json(text, "")
    except InputError as exc:
        raise ProviderError(f"{spec.describe()}: get_supported_configs() returned {exc}") from None


def _tail(path: Path) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(max(0, f.seek(0, os.SEEK_END) - _STDERR_TAIL))
            return f.read().decode("utf-8", errors="replace")
    except OSError:
        return ""


def _kill_tree(proc: subprocess.Popen[bytes], token: str) -> None:
    """Kill the plugin and every process it started: its process group, its descendants, and
    (on Linux) every process that carries this run's token in its environment, which finds
    those that started a new session or were orphaned. Repeated while any is found (a process
    may fork while it is being killed)."""
    if sys.platform == "win32":
        proc.kill()
        proc.wait()
        return
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    for _ in range(10):
        found = _processes_of_run(proc.pid, token)
        if not found:
            break
        for pid in found:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    proc.wait()


def _processes_of_run(root: int, token: str) -> set[int]:
    """Live processes (not zombies) below ``root`` or whose environment holds ``token`` (Linux's
    /proc; elsewhere none: the process group was all there is to kill)."""
    proc_dir = Path("/proc")
    if not proc_dir.is_dir():
        return set()
    marker = f"{_RUN_TOKEN}={token}".encode()
    parents: dict[int, int] = {}
    found: set[int] = set()
    me = os.getpid()
    for entry in proc_dir.iterdir():
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        pid = int(entry.name)
        try:
            stat = (entry / "stat").read_text()
            state, ppid = stat.rsplit(")", 1)[1].split()[:2]
            if state in ("Z", "X"):
                continue
            parents[pid] = int(ppid)
            if marker in (entry / "environ").read_bytes():
                found.add(pid)
        except (OSError, ValueError, IndexError):
            continue
    for pid in parents:
        chain, seen = pid, 0
        while chain in parents and seen < 4096:
            chain, seen = parents[chain], seen + 1
            if chain == root:
                found.add(pid)
                break
    if root in parents:
        found.add(root)
    return found


def validate_configs(spec: PluginSpec, configs: object) -> Features:
    def bad(reason: str) -> ProviderError:
        return ProviderError(f"{spec.describe()}: get_supported_configs() returned {reason}")

    if not isinstance(configs, list):
        return_type = "nothing" if configs is None else repr(configs)[:60]
        raise bad(f"{return_type}, not a list of feature configs")
    out: Features = {}
    for i, item in enumerate(configs):
        name = item.get("name") if isinstance(item, dict) else None
        values = item.get("values") if isinstance(item, dict) else None
        if not isinstance(name, str) or not FEATURE_RE.fullmatch(name):
            raise bad(f"an invalid feature name at [{i}]: {name!r}")
        if name in out:
            raise bad(f"feature {name!r} twice")
        if not isinstance(values, list) or not all(isinstance(v, str) and VALUE_RE.fullmatch(v) for v in values):
            raise bad(f"invalid values for feature {name!r}: {values!r}"[:200])
        out[name] = tuple(dict.fromkeys(values))
    return out


def _last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no error message"
