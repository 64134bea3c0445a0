"""YARA signatures: compiled once per policy snapshot, loud on any problem.

URL rules (`signatures/yara/url/*.yar`) see the normalised destination as data, with the
externals `url`, `host`, `domain`, `scheme`, `path`, `query`. File rules
(`signatures/yara/file/*.yar`) see the file's bytes with `filename`, `extension`, `mime`.
Every rule's `meta` carries `code`, `severity`, `message_en`, `message_vi`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yara

from .errors import Problem
from .verdict import Code, Reason, Severity, Text

URL_EXTERNALS = {"url": "", "host": "", "domain": "", "scheme": "", "path": "", "query": ""}
FILE_EXTERNALS = {"filename": "", "extension": "", "mime": ""}
_RULE_CODES = frozenset({Code.SIGNATURE, Code.DANGEROUS_FILE_TYPE, Code.KNOWN_BAD,
                         Code.IMPERSONATION, Code.DECEPTIVE_URL})
_REQUIRED_META = ("code", "severity", "message_en", "message_vi")


class ScanError(Exception):
    """A match that could not complete (timeout, YARA error): never read as "clean"."""


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Compiled rules of one kind and the reason each one gives."""

    kind: str
    rules: yara.Rules | None
    reasons: Mapping[str, Reason]
    files: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.reasons)

    def match(self, data: bytes, externals: Mapping[str, str], *, timeout: int) -> list[Reason]:
        """The reasons of every rule that matches `data`. Raises ScanError on timeout."""
        if self.rules is None:
            return []
        try:
            matches = self.rules.match(data=data, externals=dict(externals), timeout=timeout,
                                       warnings_callback=_keep_scanning)
        except yara.TimeoutError as exc:
            raise ScanError(f"signature scan timed out after {timeout} s") from exc
        except yara.Error as exc:
            raise ScanError(f"signature scan failed: {exc}") from exc
        return [self.reasons[m.rule] for m in matches]


def _keep_scanning(_kind: int, _detail: object) -> int:
    """Without a warnings callback, yara-python aborts a scan when one string matches too often
    ("internal error: 30"): a file of a few MB of "http://" would then skip content scanning
    at will. Continuing gives the full result."""
    return yara.CALLBACK_CONTINUE


def compile_rules(
    directory: Path, kind: str, externals: Mapping[str, str], *, strict: bool = True
) -> tuple[RuleSet, list[Problem]]:
    """Compile every `*.yar` in `directory` into one rule set.

    `strict` turns YARA warnings (slow rules) into errors. Problems name the file and line.
    """
    files = sorted(directory.glob("*.yar")) if directory.is_dir() else []
    if not files:
        return RuleSet(kind, None, {}, ()), []
    problems = _duplicate_names(files)
    if problems:
        return RuleSet(kind, None, {}, ()), problems
    try:
        compiled = yara.compile(
            filepaths={f.stem: str(f) for f in files},
            externals=dict(externals),
            error_on_warning=strict,
        )
    except yara.WarningError:
        return RuleSet(kind, None, {}, ()), _warnings_by_file(files, externals)
    except yara.Error as exc:
        return RuleSet(kind, None, {}, ()), [_compile_problem(exc, files)]
    reasons, problems = _reasons_from_meta(compiled, files)
    names = tuple(str(f) for f in files)
    return RuleSet(kind, compiled, reasons, names), problems


_RULE_DECL = re.compile(r"^\s*(?:(?:private|global)\s+)*rule\s+(\w+)", re.MULTILINE)


def _rule_lines(files: list[Path]) -> dict[str, tuple[str, int]]:
    """Where each rule is declared: name -> (file, line)."""
    where: dict[str, tuple[str, int]] = {}
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in _RULE_DECL.finditer(text):
            where.setdefault(match.group(1), (str(path), text.count("\n", 0, match.start()) + 1))
    return where


def _duplicate_names(files: list[Path]) -> list[Problem]:
    seen: dict[str, tuple[str, int]] = {}
    problems = []
    for path in files:
        for name, (file, line) in _rule_lines([path]).items():
            if name in seen:
                first = seen[name]
                problems.append(Problem(file, line, f"rule {name} is already defined at "
                                                    f"{first[0]}:{first[1]}"))
            else:
                seen[name] = (file, line)
    return problems


_YARA_LOCATION = re.compile(r"^(?P<file>.+?)\((?P<line>\d+)\): (?P<message>.*)$", re.DOTALL)


def _compile_problem(exc: yara.Error, files: list[Path]) -> Problem:
    text = str(exc)
    match = _YARA_LOCATION.match(text)
    if match:
        return Problem(match["file"], int(match["line"]), match["message"])
    return Problem(str(files[0].parent), None, text)


_WARNING = re.compile(r"line (?P<line>\d+): (?P<message>.*)")


def _warnings_by_file(files: list[Path], externals: Mapping[str, str]) -> list[Problem]:
    """YARA reports warnings without a file name: compile each file alone to place them."""
    problems = []
    for path in files:
        try:
            yara.compile(filepath=str(path), externals=dict(externals), error_on_warning=True)
        except yara.WarningError as exc:
            warnings = exc.args[0] if exc.args and isinstance(exc.args[0], list) else [str(exc)]
            for warning in warnings:
                match = _YARA_LOCATION.match(str(warning)) or _WARNING.match(str(warning))
                line = int(match["line"]) if match else None
                message = match["message"] if match else str(warning)
                problems.append(Problem(str(path), line, f"{message} (slow rules are refused)"))
        except yara.Error as exc:
            problems.append(_compile_problem(exc, [path]))
    return problems


def _reasons_from_meta(
    compiled: yara.Rules, files: list[Path]
) -> tuple[dict[str, Reason], list[Problem]]:
    where = _rule_lines(files)
    reasons: dict[str, Reason] = {}
    problems = []
    for rule in compiled:
        file, line = where.get(rule.identifier, (str(files[0].parent), None))
        try:
            reasons[rule.identifier] = _reason_for(rule.identifier, rule.meta)
        except ValueError as exc:
            problems.append(Problem(file, line, f"rule {rule.identifier}: {exc}"))
    return reasons, problems


def _reason_for(name: str, meta: Mapping[str, object]) -> Reason:
    missing = [k for k in _REQUIRED_META if not isinstance(meta.get(k), str) or not meta.get(k)]
    if missing:
        raise ValueError(f"meta is missing {', '.join(missing)}")
    try:
        code = Code(str(meta["code"]))
        severity = Severity(str(meta["severity"]))
    except ValueError:
        raise ValueError(
            f"meta code {meta['code']!r} / severity {meta['severity']!r} is not one of "
            f"codes {sorted(c.value for c in _RULE_CODES)} / {[s.value for s in Severity]}"
        ) from None
    if code not in _RULE_CODES:
        raise ValueError(f"meta code {code.value!r} cannot come from a rule")
    return Reason(code, severity, Text(str(meta["message_en"]), str(meta["message_vi"])), name)
