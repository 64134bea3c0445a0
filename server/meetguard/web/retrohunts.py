"""The service's retro-hunts: one after each successful reload (setting `retrohunt_days`), and
on demand (`POST /v1/admin/retrohunt`, the console). See `meetguard.retrohunt` for a run.

A run is a task of the service, so shutdown cancels it (it leaves nothing half-written: its
records are appended at its end). After a reload, a run waits for another one holding the log
(another instance, worker or CLI) and is skipped when the newest finished run on the log was
for the same policy version already: with Redis, one instance runs it and the others see it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Any

from ..retrohunt import Classifying, RetrohuntError, RunResult, run, window
from ..store.base import StoreError

if TYPE_CHECKING:
    from .service import Service

log = logging.getLogger("meetguard.retrohunt")
WAIT_FOR_LEASE_SECONDS = 1.0
"""How often a run after a reload looks again whether the log is free."""
MANUAL_WAIT_SECONDS = 3.0
"""How long a run asked for waits for another one to end before it answers 409."""


class Retrohunts:
    """Runs of one service (see the module docstring)."""

    def __init__(self, service: Service) -> None:
        self._service = service
        self.running = 0

    def after_reload(self) -> None:
        """Start the automatic run for the policy now in force, unless turned off."""
        days = self._service.settings.retrohunt_days
        if days > 0:
            self._spawn(self._after_reload(days), "meetguard-retrohunt-reload")

    async def run_now(self, since: float, until: float, trigger: str = "manual") -> RunResult:
        """One run now (shielded: the caller going away does not cut it short; shutdown
        does). Raises RetrohuntError("retrohunt-running") when another run holds the log."""
        task = self._spawn(self._manual(since, until, trigger), "meetguard-retrohunt")
        return await asyncio.shield(task)

    async def _manual(self, since: float, until: float, trigger: str) -> RunResult:
        """A run that waits a moment for one holding the log (the run after a reload that is
        only making sure its version is done, say), then says it is busy."""
        deadline = time.monotonic() + MANUAL_WAIT_SECONDS
        while True:
            try:
                result = await self._run(since, until, trigger, skip_if_done=False)
                assert result is not None
                return result
            except RetrohuntError as exc:
                if exc.code != "retrohunt-running" or time.monotonic() > deadline:
                    raise
            await asyncio.sleep(0.1)

    def _spawn(self, work: Any, name: str) -> asyncio.Task[Any]:
        tasks = self._service.tasks
        task = asyncio.get_running_loop().create_task(work, name=name)
        tasks.add(task)
        task.add_done_callback(tasks.discard)
        return task

    async def _after_reload(self, days: float) -> None:
        version = self._service.policies.current.policy.version
        while self._service.policies.current.policy.version == version:
            since, until = window(days)
            try:
                await self._run(since, until, "reload", skip_if_done=True)
                return
            except RetrohuntError as exc:
                if exc.code != "retrohunt-running":
                    log.error("retro-hunt after the reload to %s failed: %s", version, exc)
                    return
            except StoreError as exc:
                log.error("retro-hunt after the reload to %s failed: %s", version, exc)
                return
            await asyncio.sleep(WAIT_FOR_LEASE_SECONDS)  # another run holds the log

    async def _run(self, since: float, until: float, trigger: str, *,
                   skip_if_done: bool) -> RunResult | None:
        service = self._service
        policy = service.policies.current.policy
        self.running += 1
        outcome = "failed"
        try:
            log.info("retro-hunt started", extra={"version": policy.version, "since": since,
                                                  "until": until, "trigger": trigger})
            async with Classifying(policy, service.signatures_dir,
                             service.settings.retrohunt_workers) as classifying:
                # (each run its own lease owner: a run after a reload waits for this
                # process's run of the previous policy too)
                result = await run(service.store, classifying, since=since, until=until,
                                   trigger=trigger, skip_if_done=skip_if_done)
            outcome = "skipped" if result is None else "finished"
            if result is not None:
                self._finished(result)
            return result
        except RetrohuntError as exc:
            outcome = "busy" if exc.code == "retrohunt-running" else "failed"
            raise
        except asyncio.CancelledError:
            outcome = "interrupted"
            log.warning("retro-hunt interrupted: nothing of it was written; it runs again at "
                        "the next reload")
            raise
        finally:
            self.running -= 1
            if outcome != "busy":  # (a run waiting for the log tries again: not a run)
                service.metrics.inc("meetguard_retrohunt_runs_total", (("outcome", outcome),))

    def _finished(self, result: RunResult) -> None:
        summary = result.summary
        self._service.metrics.inc("meetguard_retrohunt_findings_total", (),
                                  summary.new_findings)
        new = [f for f in result.findings if f.id is not None]
        # A few lines for the operator's log; every finding is a record of the log itself
        # (and goes to syslog from there). Thousands of lines here held live checks ~200 ms.
        for finding in new[:LOGGED_FINDINGS]:
            log.warning("retro-hunt finding", extra={
                "target": finding.target, "new_action": finding.new.action,
                "records": finding.records_total, "people": len(finding.people())})
        if len(new) > LOGGED_FINDINGS:
            log.warning("retro-hunt: %d more findings, in the log as kind=retro",
                        len(new) - LOGGED_FINDINGS)


LOGGED_FINDINGS = 20  # findings of one run written one by one to the service's own log


def describe_metrics(service: Service) -> None:
    m = service.metrics
    m.describe("meetguard_retrohunt_findings_total", "counter",
               "Retro-hunt findings recorded (targets newly flagged in the log).")
    m.inc("meetguard_retrohunt_findings_total", (), 0)  # shown from the start
    m.describe("meetguard_retrohunt_runs_total", "counter",
               "Retro-hunt runs by outcome (finished, skipped, interrupted, failed).")
    m.describe("meetguard_retrohunt_running", "gauge", "Retro-hunts running in this process.")
    m.gauge("meetguard_retrohunt_running",
            lambda: [((), float(service.retrohunts.running if service.retrohunts else 0))])
