"""Retro-hunt: when the signatures learn something new, find who already clicked it.

Every distinct target logged in a window is classified again with a policy, and compared with
the verdict each record was logged with. A target is a *finding* when its action became
stricter (allow -> warn/block, warn -> block) or it gained a `known-bad`, `signature` or
`impersonation` reason. A finding is written to the log as a record of kind `retro` (event
`newly-flagged`) naming the earlier records it concerns, their installs and people; a run ends
with a summary record (event `retrohunt-run`). Findings and summary are appended together at
the end of a run, so a run cut short leaves nothing half-written, and a finding already
recorded for the same target under the same policy version is not written again.

Classification runs in worker processes (lowered priority, fed chunk by chunk), so the
service's event loop keeps answering live checks meanwhile; `workers=0` classifies in a thread
of this process instead (small logs, tests). One run at a time per log: a store `lease`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import multiprocessing
import os
import socket
import time
import uuid
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from .classify import classify_link
from .policy import Policy, load_policy
from .store.base import LogQuery, LogRecord, LogStore, StoreError, TargetVerdicts, new_record_id
from .verdict import Action

log = logging.getLogger("meetguard.retrohunt")

HUNTED_CODES = frozenset({"known-bad", "signature", "impersonation"})
"""Reasons whose arrival makes a target a finding even when its action did not change."""
FINDING_EVENT = "newly-flagged"
RUN_EVENT = "retrohunt-run"
RETRO_CLIENT = "meetguard-retrohunt"
"""The `client` of retro records: the service itself, not an install."""
LEASE = "retrohunt"
LEASE_SECONDS = 60.0
"""How long a run's lease lasts unless renewed (a run renews it after each chunk): a run
whose process died frees the log this long after."""
YIELD_EVERY = 256
"""Findings or records handled between two turns of the event loop (live checks waiting)."""
MAX_RECORD_IDS = 1000
"""The most record ids one finding lists (it counts them all)."""
_RANK = {a.value: a.rank for a in Action}


class RetrohuntError(Exception):
    """A run that could not happen or finish; `code` is `retrohunt-running` (another run holds
    the log), `signatures-changed` (the signatures on disk are not the policy asked for) or
    `store-unavailable`."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class NewVerdict(NamedTuple):
    """What a target is under the new policy (small: it crosses process boundaries)."""

    verdict_class: str
    action: str
    codes: tuple[str, ...]
    rules: tuple[str, ...]
    host: str | None
    platform: str | None


def verdict_of(policy: Policy, target: str) -> NewVerdict:
    """The target classified with `policy`, reduced to what a finding needs."""
    v = classify_link(policy, target)
    return NewVerdict(v.verdict_class.value, v.action.value, tuple(v.codes), tuple(v.rules),
                      v.host or None, v.platform)


def is_finding(old_action: str | None, old_codes: Collection[str], new: NewVerdict) -> bool:
    """True when `new` is stricter than the logged verdict, or has a hunted reason it lacked.

    >>> new = NewVerdict("unknown", "block", ("known-bad",), (), "x.example", None)
    >>> is_finding("allow", ("unknown-origin",), new), is_finding("block", ("known-bad",), new)
    (True, False)
    >>> is_finding("block", ("dangerous-scheme",), new)  # gained known-bad
    True
    >>> is_finding("warn", (), new._replace(action="allow", codes=("impersonation",)))
    True
    """
    if _RANK.get(new.action, 0) > _RANK.get(old_action or "allow", 0):
        return True
    return not HUNTED_CODES.isdisjoint(new.codes) and bool(
        HUNTED_CODES.intersection(new.codes) - set(old_codes))


@dataclass
class Finding:
    """One target now flagged, and the earlier records it concerns."""

    target: str
    new: NewVerdict
    old_action: str | None = None
    old_reasons: tuple[str, ...] = ()
    records: list[str] = field(default_factory=list)
    records_total: int = 0
    installs: set[str] = field(default_factory=set)
    users: set[str] = field(default_factory=set)
    versions: set[str] = field(default_factory=set)
    first_seen: float | None = None
    last_seen: float | None = None
    id: str | None = None
    """The id of its `retro` record (None when it was recorded by an earlier run)."""

    def add(self, record: LogRecord) -> None:
        self.records_total += 1
        if len(self.records) < MAX_RECORD_IDS:
            self.records.append(record.id)
        self.installs.add(record.client)
        if record.user:
            self.users.add(record.user)
        if record.policy_version:
            self.versions.add(record.policy_version)
        self.first_seen = min(self.first_seen or record.ts, record.ts)
        self.last_seen = max(self.last_seen or record.ts, record.ts)
        action = record.action or "allow"
        if self.old_action is None or _RANK.get(action, 0) < _RANK.get(self.old_action, 0):
            self.old_action, self.old_reasons = action, record.codes

    def people(self) -> list[str]:
        """User labels; an install without one stands for its person by its id."""
        return sorted(self.users) if self.users else sorted(self.installs)

    def to_dict(self) -> dict[str, Any]:
        new = self.new
        return {
            "target": self.target, "host": new.host, "platform": new.platform,
            "old_action": self.old_action or "allow", "new_action": new.action,
            "old_reasons": list(self.old_reasons), "reasons": list(new.codes),
            "gained": sorted(set(new.codes) - set(self.old_reasons)), "rules": list(new.rules),
            "class": new.verdict_class, "records": list(self.records),
            "records_total": self.records_total, "installs": sorted(self.installs),
            "users": sorted(self.users), "people": self.people(),
            "previous_versions": sorted(self.versions), "first_seen": self.first_seen,
            "last_seen": self.last_seen, "id": self.id, "new": self.id is not None,
        }

    def record(self, now: float, version: str, run_id: str) -> LogRecord:
        """Its `retro` record. Class, action and codes stay empty: the stats count verdicts
        people got, and this is not one (the new verdict is in `detail`)."""
        self.id = new_record_id(now)
        detail = {k: v for k, v in self.to_dict().items()
                  if k not in ("target", "host", "platform", "id", "new")}
        return LogRecord(self.id, now, "retro", RETRO_CLIENT, host=self.new.host,
                         platform=self.new.platform, target=self.target,
                         policy_version=version, event=FINDING_EVENT,
                         detail={**detail, "run": run_id})


@dataclass
class Summary:
    """What a run did (also its `retro` record, event `retrohunt-run`)."""

    id: str
    policy_version: str
    since: float
    until: float
    trigger: str
    targets: int = 0
    verdicts: int = 0
    records: int = 0
    findings: int = 0
    new_findings: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    """CPU time the classification took (in the workers)."""

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "policy_version": self.policy_version, "since": self.since,
                "until": self.until, "trigger": self.trigger, "targets": self.targets,
                "verdicts": self.verdicts, "records": self.records, "findings": self.findings,
                "new_findings": self.new_findings, "seconds": round(self.seconds, 3),
                "cpu_seconds": round(self.cpu_seconds, 3)}

    def record(self, now: float) -> LogRecord:
        detail = {k: v for k, v in self.to_dict().items() if k not in ("id", "policy_version")}
        return LogRecord(self.id, now, "retro", RETRO_CLIENT,
                         policy_version=self.policy_version, event=RUN_EVENT, detail=detail)


@dataclass
class RunResult:
    summary: Summary
    findings: list[Finding]

    def to_dict(self) -> dict[str, Any]:
        return {"summary": self.summary.to_dict(),
                "findings": [f.to_dict() for f in self.findings]}


# -- classification off the event loop ----------------------------------------------------------

_worker_policy: Policy | None = None
_worker_error: str | None = None


def _start_worker(directory: str) -> None:
    """A worker process's initializer: lower priority (live checks come first on a busy
    machine), then the policy from the signatures directory."""
    global _worker_policy, _worker_error
    with contextlib.suppress(OSError):
        os.nice(10)
    try:
        _worker_policy = load_policy(directory)
    except Exception as exc:  # reported with the first chunk, as the pool cannot say it
        _worker_error = f"signatures in {directory} do not load: {exc}"


def _started() -> None:
    """Nothing: submitted once per worker to start the processes (see `Classifying`)."""


Flagged = list[tuple[str, NewVerdict]]
"""The targets of a chunk that are findings, with their new verdict."""


def _classify_in_worker(chunk: list[tuple[str, str | None, tuple[str, ...]]],
                        version: str) -> tuple[Flagged, float]:
    if _worker_policy is None:
        raise RetrohuntError("signatures-changed", _worker_error or "no policy in the worker")
    if _worker_policy.version != version:
        raise RetrohuntError("signatures-changed",
                             f"the signatures on disk are {_worker_policy.version}, the run "
                             f"was for {version}: reload, then run again")
    return _flag(_worker_policy, chunk, time.process_time)


def _flag(policy: Policy, chunk: list[tuple[str, str | None, tuple[str, ...]]],
          clock: Callable[[], float]) -> tuple[Flagged, float]:
    """The findings among `(target, logged action, logged codes)`, and the CPU seconds the
    chunk took (what a run costs, whatever else the machine is doing). Decided here, beside
    the classification, so that only the few findings travel back: the service's process
    (and its event loop) handles a handful of results per chunk, not thousands."""
    started = clock()
    verdicts: dict[str, NewVerdict] = {}
    flagged: Flagged = []
    for target, action, codes in chunk:
        new = verdicts.get(target)
        if new is None:
            new = verdicts[target] = verdict_of(policy, target)
        if is_finding(action, codes, new):
            flagged.append((target, new))
    return flagged, clock() - started


class Classifying:
    """Classifies chunks of targets off the event loop: in `workers` processes that load the
    policy from `directory` (and refuse to go on if it is not `policy`'s version), or with
    `workers=0` in one thread of this process with `policy` itself."""

    def __init__(self, policy: Policy, directory: Path | None, workers: int) -> None:
        self.policy = policy
        self.workers = workers if directory is not None else 0
        self._directory = directory
        self._pool: concurrent.futures.Executor | None = None

    async def __aenter__(self) -> Classifying:
        return self

    async def open(self) -> None:
        """Start the workers (a run does once it holds the log: a run that only waits for
        another one, or finds its version done, starts no process)."""
        if self._pool is not None:
            return
        if self.workers:
            self._pool = concurrent.futures.ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker, initargs=(str(self._directory),))
            # The pool starts a process per submit while none is idle, in the submitting
            # thread: a thread of its own, not the event loop (starting one held the loop for
            # ~90 ms under load: live checks waited).
            await asyncio.to_thread(self._start_processes)
        else:
            self._pool = concurrent.futures.ThreadPoolExecutor(1, "meetguard-retrohunt")

    def _start_processes(self) -> None:
        assert self._pool is not None
        for _ in range(self.workers):
            self._pool.submit(_started)

    async def __aexit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    @property
    def in_flight(self) -> int:
        """Chunks worth keeping queued: each worker has the next one ready."""
        return 2 * max(1, self.workers)

    def submit(self, chunk: Sequence[TargetVerdicts]) -> asyncio.Future[tuple[Flagged, float]]:
        """The findings of a chunk (see `_flag`), and the CPU seconds they took."""
        assert self._pool is not None
        loop = asyncio.get_running_loop()
        plain = [(t.target, t.action, t.codes) for t in chunk]  # (smaller to send)
        if self.workers:
            return loop.run_in_executor(self._pool, _classify_in_worker, plain,
                                        self.policy.version)
        return loop.run_in_executor(self._pool, _flag, self.policy, plain, time.thread_time)


# -- a run ---------------------------------------------------------------------------------------


def lease_owner() -> str:
    """Who holds the lease: this process, recognisable in the store."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class _Lease:
    """The log's retro-hunt lease, renewed as a run goes on, given up at its end."""

    def __init__(self, store: LogStore, owner: str) -> None:
        self.store, self.owner = store, owner
        self._renewed = 0.0

    async def take(self) -> bool:
        taken = await self.store.lease(LEASE, self.owner, LEASE_SECONDS)
        self._renewed = time.monotonic()
        return taken

    async def keep(self) -> None:
        if time.monotonic() - self._renewed > LEASE_SECONDS / 4 and not await self.take():
            raise RetrohuntError("retrohunt-running", "the run lost its lease on the log")

    async def give_up(self) -> None:
        try:
            await self.store.lease(LEASE, self.owner, 0)
        except StoreError as exc:  # it expires by itself
            log.warning("could not give up the retro-hunt lease: %s", exc)


async def latest_run_version(store: LogStore) -> str | None:
    """The policy version of the newest finished run on this log, if any."""
    page = await store.query(LogQuery(kind="retro", event=RUN_EVENT, limit=1))
    return page.items[0].policy_version if page.items else None


async def recorded_targets(store: LogStore, version: str) -> set[str]:
    """Targets with a finding recorded under `version` already."""
    return {r.target or "" async for r in store.export(LogQuery(kind="retro", event=FINDING_EVENT))
            if r.policy_version == version}


async def run(
    store: LogStore, classifying: Classifying, *, since: float, until: float,
    trigger: str = "manual", owner: str | None = None, skip_if_done: bool = False,
) -> RunResult | None:
    """One retro-hunt over `[since, until)` with `classifying.policy`; its findings and summary
    are in the log when it returns. None when `skip_if_done` and the newest finished run on
    this log was for the same policy version. Raises RetrohuntError("retrohunt-running") when
    another run holds the log."""
    lease = _Lease(store, owner or lease_owner())
    try:  # (given up in any case: a cancelled take may have taken it)
        if not await lease.take():
            raise RetrohuntError("retrohunt-running", "a retro-hunt is running on this log")
        version = classifying.policy.version
        if skip_if_done and await latest_run_version(store) == version:
            return None
        await classifying.open()
        started = time.monotonic()
        summary = Summary("", version, since, until, trigger)
        findings = await _hunt(store, classifying, summary, lease)
        await _people(store, findings, since, until)
        await lease.keep()
        result = await _record(store, summary, findings, started)
        log.info("retro-hunt finished", extra=summary.to_dict())
        return result
    finally:
        await lease.give_up()


async def _hunt(store: LogStore, classifying: Classifying, summary: Summary,
                lease: _Lease) -> dict[str, Finding]:
    """Classify every distinct target of the window; the findings by target (no records yet)."""
    findings: dict[str, Finding] = {}
    pending: list[tuple[list[TargetVerdicts], asyncio.Future[Any]]] = []

    def settle(chunk: list[TargetVerdicts], result: tuple[Flagged, float]) -> None:
        flagged, cpu = result
        summary.cpu_seconds += cpu
        summary.verdicts += len(chunk)
        summary.records += sum(item.records for item in chunk)
        for target, new in flagged:
            findings.setdefault(target, Finding(target, new))

    last = None
    try:
        async for chunk in store.logged_targets(summary.since, summary.until):
            # A target whose entries a chunk edge split is counted (and classified) twice.
            summary.targets += len({item.target for item in chunk}) - (chunk[0].target == last)
            last = chunk[-1].target
            pending.append((chunk, classifying.submit(chunk)))
            while len(pending) >= classifying.in_flight:
                done_chunk, future = pending.pop(0)
                settle(done_chunk, await future)
                await lease.keep()
        for done_chunk, future in pending:
            settle(done_chunk, await future)
        pending.clear()
    finally:
        for _, future in pending:
            future.cancel()
    return findings


async def _people(store: LogStore, findings: dict[str, Finding], since: float,
                  until: float) -> None:
    """Add to each finding the earlier records it concerns: the records of its target logged
    with a verdict the new one is stricter than."""
    if not findings:
        return
    seen = 0
    async for record in store.records_with_targets(list(findings), since, until):
        finding = findings.get(record.target or "")
        if finding is not None and is_finding(record.action, record.codes, finding.new):
            finding.add(record)
        seen += 1
        if seen % YIELD_EVERY == 0:
            await asyncio.sleep(0)  # live checks go first


async def _record(store: LogStore, summary: Summary, findings: dict[str, Finding],
                  started: float) -> RunResult:
    """Write the new findings and the summary, in one append."""
    known = await recorded_targets(store, summary.policy_version)
    now = time.time()
    summary.id = new_record_id(now)  # (a record's id carries its time: the console finds it)
    ordered = sorted(findings.values(), key=lambda f: f.target)
    records = []
    for i, f in enumerate(ordered):
        if f.target not in known and f.records_total:
            records.append(f.record(now, summary.policy_version, summary.id))
        if i % YIELD_EVERY == YIELD_EVERY - 1:
            await asyncio.sleep(0)
    summary.findings = sum(1 for f in ordered if f.records_total)
    summary.new_findings = len(records)
    summary.seconds = time.monotonic() - started
    await store.append([*records, summary.record(now)])
    return RunResult(summary, [f for f in ordered if f.records_total])


def describe(result: dict[str, Any]) -> list[str]:
    """Lines for people from a run's `to_dict()` (or the API's answer): the summary, then each
    finding with the people it concerns."""
    s = result["summary"]
    lines = [f"retro-hunt with {s['policy_version']}: {s['targets']} targets, {s['records']} "
             f"records checked in {s['seconds']:.1f} s; {s['findings']} findings "
             f"({s['new_findings']} new)"]
    for f in result["findings"]:
        reasons = ",".join(f["gained"]) or ",".join(f["reasons"])
        lines.append(f"{f['old_action']} -> {f['new_action']}  {f['target']}  [{reasons}]  "
                     f"{f['records_total']} record(s); people: {', '.join(f['people'])}")
    return lines


def window(days: float, now: float | None = None) -> tuple[float, float]:
    """`(since, until)` for the last `days` days."""
    until = time.time() if now is None else now
    return until - days * 86400, until

