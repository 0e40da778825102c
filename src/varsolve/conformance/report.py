"""Rows of a conformance run and their renderings: a text table, Markdown (docs/conformance.md)
and JSON. Everything but ``seconds`` (JSON only) is a function of the inputs and the installer."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["FORMATS", "ConformanceReport", "ConformanceRow", "Status"]

FORMATS = ("table", "md", "json")
Status = Literal["ok", "no-solution", "error", "skip"]
DASH = "—"


@dataclass
class ConformanceRow:
    """One scenario: what the installer chose, whether the verifier accepts it, how it compares
    with varsolve's strategies and why it differs."""

    scenario: str
    path: str
    installer: str
    status: Status = "ok"
    packages: dict[str, str] = field(default_factory=dict)  # name -> "version [label]"
    files: dict[str, str] = field(default_factory=dict)  # name -> the file chosen
    message: str = ""  # the installer's reason for no solution, or the error
    valid: bool | None = None  # the verifier found nothing but (maybe) unify violations
    consistent: bool | None = None  # no unified feature takes two values
    mixed: list[str] = field(default_factory=list)  # the unified features that do
    violations: list[str] = field(default_factory=list)
    same: dict[str, bool | None] = field(default_factory=dict)  # strategy -> same answer
    strategies: dict[str, dict[str, str] | None] = field(default_factory=dict)  # strategy -> packages
    reasons: list[dict[str, str]] = field(default_factory=list)  # {"code", "text"}
    # Releases the installer refused to read: {"name", "version", "file" (what it had
    # selected, the *-variants.json it could not parse, or ""), "marker" (the variant marker it
    # stumbled on, or ""), "reason", "instead" (the version it selected afterwards, or "")}.
    rejected: list[dict[str, str]] = field(default_factory=list)
    seconds: float | None = None

    def result_text(self) -> str:
        if self.status == "ok":
            return ", ".join(f"{name} {text}" for name, text in sorted(self.packages.items()))
        if self.status == "no-solution":
            return "no solution"
        return self.status

    def consistent_text(self) -> str:
        if self.status != "ok":
            return DASH
        if not self.valid:
            return "invalid"
        return "yes" if self.consistent else f"no ({', '.join(self.mixed)})"

    def why_text(self) -> str:
        if self.status == "error":
            return self.message
        return "; ".join(reason["text"] for reason in self.reasons) or DASH

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "path": self.path,
            "installer": self.installer,
            "status": self.status,
            "packages": dict(sorted(self.packages.items())),
            "files": dict(sorted(self.files.items())),
            "message": self.message,
            "valid": self.valid,
            "consistent": self.consistent,
            "mixed": list(self.mixed),
            "violations": list(self.violations),
            "same": dict(self.same),
            "strategies": dict(self.strategies),
            "reasons": list(self.reasons),
            "rejected": list(self.rejected),
            "seconds": self.seconds,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConformanceRow:
        """The inverse of :meth:`to_json_dict`."""
        return cls(**{key: data[key] for key in cls.__dataclass_fields__ if key in data})


def _yes_no(value: bool | None) -> str:
    return DASH if value is None else "yes" if value else "no"


@dataclass
class ConformanceReport:
    installer: str  # its label: "uv 0.13.9", "pip 26.3", a command's program
    rows: list[ConformanceRow]
    strategies: list[str]
    command: str | None = None  # the template of a command installer

    @property
    def errors(self) -> list[ConformanceRow]:
        return [row for row in self.rows if row.status == "error"]

    def summary(self) -> dict[str, Any]:
        ran = [row for row in self.rows if row.status != "skip"]
        answered = [row for row in ran if row.status != "error"]
        return {
            "scenarios": len(ran),
            "ok": sum(row.status == "ok" for row in ran),
            "no_solution": sum(row.status == "no-solution" for row in ran),
            "errors": sum(row.status == "error" for row in ran),
            "skipped": sum(row.status == "skip" for row in self.rows),
            "inconsistent": sum(row.status == "ok" and row.valid is True and row.consistent is False for row in ran),
            "invalid": sum(row.status == "ok" and row.valid is False for row in ran),
            "same": {name: sum(bool(row.same.get(name)) for row in answered) for name in self.strategies},
            "reasons": dict(sorted(Counter(r["code"] for row in ran for r in row.reasons).items())),
        }

    def summary_lines(self) -> list[str]:
        s = self.summary()
        same = ", ".join(f"{count} same as {name}" for name, count in s["same"].items())
        lines = [
            f"{self.installer}, {s['scenarios']} scenarios: {s['ok']} resolved, {s['no_solution']} no solution, "
            f"{s['errors']} errors; {s['inconsistent']} inconsistent, {s['invalid']} invalid; {same}",
        ]
        if s["reasons"]:
            lines.append("differences by cause: " + ", ".join(f"{code} {n}" for code, n in s["reasons"].items()))
        return lines

    def _cells(self) -> tuple[list[str], list[list[str]]]:
        header = ["scenario", self.installer, "consistent", *(f"= {name}" for name in self.strategies), "why it differs"]
        body = [
            [row.scenario, row.result_text(), row.consistent_text(),
             *(_yes_no(row.same.get(name)) for name in self.strategies), row.why_text()]
            for row in self.rows
        ]
        return header, body

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ConformanceReport:
        """A report from its JSON (``render("json")``), e.g. to render it in another format."""
        rows = [ConformanceRow.from_dict(row) for row in data["rows"]]
        return cls(data["installer"], rows, list(data["strategies"]), data.get("command"))

    def render(self, fmt: str) -> str:
        if fmt == "json":
            doc = {
                "installer": self.installer,
                "command": self.command,
                "strategies": self.strategies,
                "rows": [row.to_json_dict() for row in self.rows],
                "summary": self.summary(),
            }
            return json.dumps(doc, indent=2) + "\n"
        header, body = self._cells()
        if fmt == "md":
            def line(cells: list[str]) -> str:
                return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"

            out = [line(header), "|" + "|".join("---" for _ in header) + "|", *(line(cells) for cells in body)]
            return "\n".join([*out, "", *self.summary_lines()]) + "\n"
        widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
        rows = [
            "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()
            for cells in [header, *body]
        ]
        return "\n".join([*rows, "", *self.summary_lines()]) + "\n"
