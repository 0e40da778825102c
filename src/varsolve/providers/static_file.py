"""Static provider files: what a target supports, written by ``varsolve detect`` or by hand.

The layout is uv's variant lock file (digest 3.4), so files move between the two tools::

    [[provider]]
    namespace = "nvidia"
    [provider.properties]
    cuda_version_lower_bound = ["12.8", "12.6"]   # most preferred first
    sm_arch = ["120_real"]

An empty list means the feature is unsupported. Key order is the feature order. The same
structure in JSON (``{"provider": [{"namespace": ..., "properties": {...}}]}``, what
``varsolve detect --format json`` writes) is read from files whose content starts with ``{``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from ..errors import InputError
from ..target import SupportedMap
from ..toml_fields import key_part
from ..variants.properties import FEATURE_RE, NAMESPACE_RE, VALUE_RE


def load_static_file(path: str | Path) -> SupportedMap:
    from ..structured import load_json, load_toml
    from ..textfile import read_text_file

    path = Path(path)
    where = str(path)
    text = read_text_file(path, "variants file")
    if text.lstrip().startswith("{"):
        data = load_json(text, where)
        if not isinstance(data, dict):
            raise InputError("must be a JSON object", where=where)
    else:
        data = load_toml(text, where)
    return parse_static(data, where)


def parse_static(data: Mapping[str, object], where: str) -> SupportedMap:
    """The parsed TOML or JSON of a static provider file (untrusted: every value is checked)."""
    unknown = sorted(set(data) - {"provider", "metadata"})
    if unknown:
        raise InputError(f"{unknown[0]}: unknown key", where=where)
    providers = data.get("provider", [])
    if not isinstance(providers, list):
        raise InputError("provider: must be an array of tables ([[provider]])", where=where)
    out: SupportedMap = {}
    for i, provider in enumerate(providers):
        key = f"provider[{i}]"
        if not isinstance(provider, dict):
            raise InputError(f"{key}: must be a table", where=where)
        ns = provider.get("namespace")
        if not isinstance(ns, str) or not NAMESPACE_RE.fullmatch(ns):
            raise InputError(f"{key}.namespace: invalid namespace {ns!r}", where=where)
        if ns in out:
            raise InputError(f"{key}.namespace: {ns!r} listed twice", where=where)
        props = provider.get("properties", {})
        if not isinstance(props, dict):
            raise InputError(f"{key}.properties: must be a table", where=where)
        out[ns] = {}
        for feature, values in props.items():
            fkey = f"{key}.properties.{key_part(feature)}"
            if not FEATURE_RE.fullmatch(feature):
                raise InputError(f"{fkey}: invalid feature name", where=where)
            if not isinstance(values, list) or not all(isinstance(v, str) and VALUE_RE.fullmatch(v) for v in values):
                raise InputError(f"{fkey}: must be a list of values matching {VALUE_RE.pattern}", where=where)
            out[ns][feature] = tuple(values)
    return out


def dump_static(supported: SupportedMap, created_by: str = "varsolve") -> str:
    """Serialise in the same layout (deterministic; feature order kept)."""
    lines = ["[metadata]", f'created-by = "{created_by}"', 'version = "0.1"', ""]
    for ns in supported:
        lines += ["[[provider]]", f'namespace = "{ns}"', "", "[provider.properties]"]
        for feature, values in supported[ns].items():
            lines.append(f"{feature} = [{', '.join(repr_str(v) for v in values)}]")
        lines.append("")
    return "\n".join(lines)


def dump_static_json(supported: SupportedMap, created_by: str = "varsolve") -> str:
    """The same content as :func:`dump_static`, as JSON (deterministic; feature order kept)."""
    data = {
        "metadata": {"created-by": created_by, "version": "0.1"},
        "provider": [
            {"namespace": ns, "properties": {f: list(v) for f, v in features.items()}}
            for ns, features in supported.items()
        ],
    }
    return json.dumps(data, indent=2) + "\n"


def repr_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
