"""`meetguard`: the command line. Offline commands work straight from `signatures/`.

Errors are one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TextIO

import orjson

from . import __version__
from .classify import Classifier, FileFacts, classify_link, scan_bytes
from .errors import MeetGuardError, SignatureError
from .policy import Policy, check_signatures, load_policy
from .room_details import check_room_details
from .signatures import default_signatures_dir
from .tables import WINDOW, Column, Table, output_width, printable
from .verdict import Action, most_severe

EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_FLAGGED = 0, 1, 2, 3
FORMATS = ("table", "json", "jsonl")


class CliError(Exception):
    """A problem to report in one line; `exit_code` is the process's exit status."""

    def __init__(self, message: str, exit_code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.exit_code = exit_code


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise CliError(f"{self.prog}: {message}", EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="meetguard", description="Keeps people off unsafe meeting links "
                                                   "and files.")
    parser.add_argument("--version", action="version", version=f"meetguard {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_check(commands)
    _add_scan(commands)
    _add_signatures(commands)
    _add_serve(commands)
    _add_logs(commands)
    _add_retrohunt(commands)
    _add_feeds(commands)
    _add_extension(commands)
    return parser


def _common(sub: argparse.ArgumentParser, *, formats: bool = True) -> None:
    sub.add_argument("--signatures", metavar="DIR", type=Path,
                     help="signatures directory (default: the bundled one, or "
                          "$MEETGUARD_SIGNATURES)")
    sub.add_argument("--lang", choices=("en", "vi"), default="en", help="language of messages")
    if formats:
        sub.add_argument("--format", choices=FORMATS, default="table")


def _add_check(commands: Any) -> None:
    sub = commands.add_parser("check", help="classify links (offline)",
                              description="Classify links offline. With '-', one link per "
                                          "input line; jsonl prints one object per input line.")
    sub.add_argument("urls", nargs="+", metavar="URL", help="links, or - to read from stdin")
    sub.add_argument("--fail-on", choices=("warn", "block"),
                     help=f"exit {EXIT_FLAGGED} when any verdict's action is at least this")
    _common(sub)
    sub.set_defaults(run=_run_check)


def _add_scan(commands: Any) -> None:
    sub = commands.add_parser("scan", help="check files: hash lists, file type, YARA rules")
    sub.add_argument("files", nargs="+", metavar="FILE", type=Path)
    sub.add_argument("--source-url", metavar="URL", help="where the files were downloaded from")
    sub.add_argument("--fail-on", choices=("warn", "block"))
    _common(sub)
    sub.set_defaults(run=_run_scan)


def _add_signatures(commands: Any) -> None:
    sub = commands.add_parser("signatures", help="manage signatures")
    verbs = sub.add_subparsers(dest="verb", required=True, parser_class=_Parser)
    check = verbs.add_parser("check", help="validate and compile every signature file")
    check.add_argument("directory", nargs="?", type=Path, metavar="DIR")
    check.add_argument("--signatures", metavar="DIR", type=Path, dest="signatures")
    check.set_defaults(run=_run_signatures_check)


def _add_serve(commands: Any) -> None:
    from .settings import SETTINGS

    sub = commands.add_parser("serve", help="run the verdict service",
                              description="Run the verdict service. Every option is also an "
                                          "environment variable MEETGUARD_<NAME> and a key of "
                                          "the --config TOML file.")
    for setting in SETTINGS:
        flag = "--" + setting.name.replace("_", "-")
        sub.add_argument(flag, dest=setting.name, metavar=setting.name.upper(),
                         help=f"{setting.help} [{setting.env}; default {setting.default!r}]")
    sub.set_defaults(run=_run_serve)


def _add_logs(commands: Any) -> None:
    sub = commands.add_parser("logs", help="query the verdict log",
                              description="Query a running service (--url, admin token) or "
                                          "the local SQLite log (--db).")
    sub.add_argument("--url", help="service base URL, e.g. http://127.0.0.1:8080")
    sub.add_argument("--token", default=os.environ.get("MEETGUARD_ADMIN_TOKEN"),
                     help="admin token [$MEETGUARD_ADMIN_TOKEN]")
    sub.add_argument("--db", default=str(Path("data") / "meetguard.sqlite3"),
                     help="local SQLite log (default: data/meetguard.sqlite3)")
    sub.add_argument("--since", help="24h, 7d, ISO 8601 or unix seconds")
    sub.add_argument("--until")
    sub.add_argument("--class", dest="klass", choices=("approved", "warned", "unknown"))
    for name in ("action", "platform", "host", "client", "user", "kind", "context", "event"):
        sub.add_argument(f"--{name}")
    sub.add_argument("--code", help="a reason code, e.g. impersonation (every look-alike hit)")
    sub.add_argument("--limit", type=int)
    sub.add_argument("--format", choices=("table", "csv", "jsonl", "ndjson"), default="table",
                     help="ndjson is the same as jsonl")
    sub.add_argument("--lang", choices=("en", "vi"), default="en",
                     help="language of the table's reason column")
    sub.add_argument("--time-zone", metavar="ZONE",
                     help="IANA zone of the RFC 3339 times, e.g. Asia/Ho_Chi_Minh "
                          "[$MEETGUARD_TIME_ZONE; default UTC]")
    sub.add_argument("--follow", "-f", action="store_true",
                     help="keep printing new records as they arrive (like tail -f); with "
                          "--syslog, forward them instead")
    sub.add_argument("--interval", type=float, default=1.0, metavar="SECONDS",
                     help="with --follow: how often to look for new records (default 1)")
    sub.add_argument("--syslog", metavar="TARGET",
                     help="with --follow: send records to an RFC 5424 syslog receiver, "
                          "udp://host:514 or tcp://host:601 (JSON payload)")
    sub.set_defaults(run=_run_logs)


def _add_retrohunt(commands: Any) -> None:
    sub = commands.add_parser(
        "retrohunt", help="re-check the logged targets with the signatures (who clicked what "
                          "is now known bad)",
        description="Classify every distinct target logged in the window again; the ones now "
                    "flagged are written to the log (kind retro) and printed with the people "
                    "they concern. On the local data directory, or through a running service "
                    "(--url, admin token).")
    sub.add_argument("--since", default="7d", help="7d, 24h, ISO 8601 or unix seconds "
                                                   "(default 7d)")
    sub.add_argument("--until")
    sub.add_argument("--url", help="service base URL, e.g. http://127.0.0.1:8080")
    sub.add_argument("--token", default=os.environ.get("MEETGUARD_ADMIN_TOKEN"),
                     help="admin token [$MEETGUARD_ADMIN_TOKEN]")
    sub.add_argument("--data-dir", default=os.environ.get("MEETGUARD_DATA_DIR", "data"),
                     help="the service's data directory [$MEETGUARD_DATA_DIR; default data]")
    sub.add_argument("--signatures", metavar="DIR",
                     help="signatures directory (default: the bundled one, or "
                          "$MEETGUARD_SIGNATURES)")
    sub.add_argument("--workers", type=int, default=2, choices=range(0, 65), metavar="N",
                     help="processes to classify in (0: a thread; default 2)")
    sub.add_argument("--format", choices=("table", "json"), default="table")
    sub.set_defaults(run=_run_retrohunt)


def _add_feeds(commands: Any) -> None:
    sub = commands.add_parser("feeds", help="import threat feeds into the signatures")
    from .feeds import FEEDS

    verbs = sub.add_subparsers(dest="verb", required=True, parser_class=_Parser)
    imp = verbs.add_parser(
        "import", help="import a downloaded feed file (no network)",
        description="Import a feed file you downloaded into domains/NAME.txt and "
                    "hashes/NAME.txt of the signatures directory. Re-importing replaces "
                    "those lists. Reload the service afterwards.")
    imp.add_argument("kind", choices=tuple(FEEDS), metavar="KIND",
                     help=f"one of: {', '.join(FEEDS)}")
    imp.add_argument("file", type=Path, metavar="FILE")
    imp.add_argument("--signatures", metavar="DIR", type=Path,
                     help="signatures directory (default: the bundled one)")
    imp.add_argument("--name", help="list name (file stem); default: the feed's name")
    imp.add_argument("--merge", action="store_true",
                     help="add to the existing lists instead of replacing them")
    imp.add_argument("--format", choices=("table", "json"), default="table")
    imp.set_defaults(run=_run_feeds_import)


def _add_extension(commands: Any) -> None:
    from .extension_cli import add_parser

    add_parser(commands, _Parser)


# -- commands ------------------------------------------------------------------------------------


def _policy(args: argparse.Namespace) -> Policy:
    directory = args.signatures or default_signatures_dir()
    try:
        return load_policy(directory)
    except SignatureError as exc:
        raise CliError(f"signatures in {directory} do not load: {exc}") from None


def _run_check(args: argparse.Namespace, out: TextIO) -> int:
    policy = _policy(args)
    # Input lines are mostly distinct: no per-URL cache (the per-host memo stays), and the
    # loaded policy is moved out of the garbage collector's way.
    gc.freeze()
    flagged = _threshold(args.fail_on)
    worst = 0
    rows = (classify_link(policy, url).to_dict(args.lang) for url in _urls(args.urls))
    # Links typed at a terminal get their row at once; widths are then those of the first.
    window = 1 if "-" in args.urls and sys.stdin.isatty() else WINDOW
    for verdict in _emit(rows, args.format, out, _LINK_COLUMNS, window=window):
        worst = max(worst, _RANK[verdict["action"]])
    return EXIT_FLAGGED if flagged is not None and worst >= flagged else EXIT_OK


_RANK = {action.value: action.rank for action in Action}


def _urls(items: Sequence[str]) -> Iterator[str]:
    for item in items:
        if item == "-":
            # Bytes that are not UTF-8 become U+FFFD: that line gets its own verdict, the
            # rest of the input goes on.
            sys.stdin.reconfigure(errors="replace")  # type: ignore[union-attr]
            for line in sys.stdin:
                yield line.removesuffix("\n").removesuffix("\r")
        else:
            yield item


def _threshold(name: str | None) -> int | None:
    return Action(name).rank if name else None


def _run_scan(args: argparse.Namespace, out: TextIO) -> int:
    classifier = Classifier(_policy(args))
    flagged = _threshold(args.fail_on)
    worst, failed = 0, False
    rows = []

    def scan(path: Path) -> dict[str, Any] | OSError:
        try:
            return _scan_one(classifier, path, args.source_url, args.lang)
        except OSError as exc:
            return exc

    # Hashing and YARA both release the GIL: files are scanned on every core, in input order.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        for path, result in zip(args.files, pool.map(scan, args.files), strict=True):
            if isinstance(result, OSError):
                print(f"meetguard scan: {path}: {result.strerror or result}", file=sys.stderr)
                failed = True
            else:
                rows.append(result)
    for verdict in _emit(rows, args.format, out, _FILE_COLUMNS):
        worst = max(worst, Action(verdict["action"]).rank)
    if failed:
        return EXIT_ERROR
    return EXIT_FLAGGED if flagged is not None and worst >= flagged else EXIT_OK


def _scan_one(
    classifier: Classifier, path: Path, source_url: str | None, lang: str
) -> dict[str, Any]:
    policy = classifier.policy
    size = path.stat().st_size
    if not path.is_file():
        raise IsADirectoryError(21, "not a regular file")
    with path.open("rb") as handle:
        data = handle.read(policy.files.max_scan_bytes + 1)
        digest = hashlib.sha256(data)
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    facts = FileFacts(digest.hexdigest(), size, path.name, source_url=source_url)
    verdict = classifier.file(facts, scan_bytes(policy, data, path.name))
    return {"path": str(path), **verdict.to_dict(lang)}


def _run_serve(args: argparse.Namespace, out: TextIO) -> int:
    from .settings import SETTINGS, load_settings
    from .web.serve import serve

    flags = {s.name: getattr(args, s.name) for s in SETTINGS}
    return serve(load_settings(flags))


def _run_logs(args: argparse.Namespace, out: TextIO) -> int:
    from .logs_cli import LogsError, run_logs

    try:
        return run_logs(args, out)
    except LogsError as exc:
        raise CliError(f"meetguard logs: {exc}") from None


def _run_retrohunt(args: argparse.Namespace, out: TextIO) -> int:
    from .retrohunt_cli import RetrohuntCliError, run_retrohunt

    try:
        return run_retrohunt(args, out)
    except RetrohuntCliError as exc:
        raise CliError(f"meetguard retrohunt: {exc}") from None


def _run_feeds_import(args: argparse.Namespace, out: TextIO) -> int:
    from .feeds import FeedError, format_report, import_feed

    directory = args.signatures or default_signatures_dir()
    try:
        report = import_feed(args.kind, args.file, directory, name=args.name, merge=args.merge)
    except FeedError as exc:
        raise CliError(f"meetguard feeds import: {exc}") from None
    if args.format == "json":
        out.write(orjson.dumps(report.to_dict(), option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        out.write("\n".join(format_report(report)) + "\n")
    return EXIT_OK


def _run_signatures_check(args: argparse.Namespace, out: TextIO) -> int:
    directory = args.directory or args.signatures or default_signatures_dir()
    problems = check_signatures(directory) + check_room_details(directory)
    if problems:
        for problem in problems:
            print(problem, file=out)
        print(f"{len(problems)} problem(s) in {directory}", file=sys.stderr)
        return EXIT_ERROR
    policy = load_policy(directory)
    summary = policy.summary()
    counts = ", ".join(f"{k} {v}" for k, v in summary.items()
                       if k not in ("version", "directory", "loaded_at"))
    print(f"ok: {directory} version {summary['version']}: {counts}", file=out)
    for warning in policy.warnings:  # loads, but leaves a gap IT should close
        print(f"warning: {warning}", file=sys.stderr)
    return EXIT_OK


# -- output --------------------------------------------------------------------------------------

# Narrow terminals lose the codes first (the reason says more), then what the link repeats.
_LINK_COLUMNS = (
    Column("class", minimum=8, typical=8), Column("action", typical=6),
    Column("platform", minimum=8, typical=10, drop=2),
    Column("host", minimum=12, middle=True, typical=24, drop=3),
    Column("codes", minimum=12, typical=16, drop=4),
    Column("reason", minimum=20, typical=40, weight=2),
    Column("url", minimum=20, middle=True, typical=40, weight=2))
_FILE_COLUMNS = (
    Column("class", minimum=8, typical=8), Column("action", typical=6),
    Column("sha256", minimum=12, typical=12, drop=2),
    Column("codes", minimum=12, typical=16, drop=3),
    Column("reason", minimum=20, typical=40, weight=2),
    Column("path", minimum=20, middle=True, typical=40, weight=2))


def _emit(
    rows: Iterable[dict[str, Any]], fmt: str, out: TextIO, columns: Sequence[Column], *,
    window: int = WINDOW,
) -> Iterator[dict[str, Any]]:
    """Write rows as they come (jsonl streams, a table after its first `window` rows; json is
    one array) and pass them on."""
    if fmt == "json":
        collected = list(rows)
        out.write(orjson.dumps(collected, option=orjson.OPT_INDENT_2).decode() + "\n")
        yield from collected
        return
    if fmt == "jsonl":
        yield from _emit_jsonl(rows, out)
        return
    table = Table(columns, out, output_width(out), window=window)
    for row in rows:
        table.add(_table_cells(row, columns))
        yield row
    table.close()


def _emit_jsonl(rows: Iterable[dict[str, Any]], out: TextIO) -> Iterator[dict[str, Any]]:
    """One JSON object per line, written as bytes (no decoding and re-encoding per line)."""
    out.flush()
    sink = getattr(out, "buffer", None)
    for row in rows:
        line = orjson.dumps(row, option=orjson.OPT_APPEND_NEWLINE)
        if sink is not None:
            sink.write(line)
        else:
            out.write(line.decode())
        yield row


def _table_cells(row: dict[str, Any], columns: Sequence[Column]) -> list[str]:
    cells = []
    for column in columns:
        value = row.get(column.name)
        if column.name == "codes":
            value = ",".join(r["code"] for r in row.get("reasons") or [])
        elif column.name == "reason":
            value = main_reason(row.get("reasons") or [])
        elif column.name == "sha256" and value:
            value = value[:12]
        cells.append(printable(str(value)) if value not in (None, "") else "-")
    return cells


def main_reason(reasons: Sequence[dict[str, Any]]) -> str:
    """The message of the most severe reason (the first of equals), as the extension shows it.

    >>> main_reason([{"severity": "low", "message": "a"}, {"severity": "high", "message": "b"},
    ...              {"severity": "high", "message": "c"}])
    'b'
    """
    if not reasons:
        return ""
    return str(reasons[most_severe([r["severity"] for r in reasons])]["message"])


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `meetguard` console script."""
    try:
        args = build_parser().parse_args(argv)
        return args.run(args, sys.stdout)
    except CliError as exc:
        print(str(exc), file=sys.stderr)
        return exc.exit_code
    except MeetGuardError as exc:
        print(f"meetguard: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): not an error worth a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except OSError as exc:
        print(f"meetguard: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
