"""Benchmark of the browser extension in Debian's Chromium. Prints figures; asserts nothing.

    python bench/bench_extension.py [--runs N] [--links N]

Everything is real: the extension loaded in headless Chromium, `meetguard serve` on loopback,
a local site answering for every host name (see tests/browser/harness.py). Figures:
  * click to decision: from the mouse-up of a real click to the start of the navigation to the
    destination (the destination's performance.timeOrigin), for a destination the policy
    snapshot knows (approved platform: no round trip) and for one only the service can judge
    (a new unknown host per click); the same clicks without the extension are the baseline.
    Goal: known < 5 ms over the baseline, server-checked < 50 ms on loopback.
  * hover batch in webmail: a message with N links (default 50) to hosts nobody has checked;
    how many link-check requests reached the service and with how many URLs, the service's
    time for them, and the time from navigation start until every verdict was back.
    Goal: 50 links in one request.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def load_harness():
    path = ROOT / "tests" / "browser" / "harness.py"
    spec = importlib.util.spec_from_file_location("meetguard_browser_harness", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


h = load_harness()


def click_once(ctx, site, target: str) -> float:
    """Milliseconds from the mouse-up to the start of the navigation to `target`."""
    run = uuid.uuid4().hex
    sep = "&" if "?" in target else "?"
    dest = f"{target}{sep}run={run}"
    page = ctx.new_page()
    try:
        page.goto("https://bench.example.org/bench-click?" + _query(target=dest, run=run))
        page.click("#go")
        page.wait_for_url(dest)
        found = h.poll(lambda: _beacons(site, run), timeout=10, interval=0.02)
        if not found:
            raise RuntimeError(f"no timing beacons for {dest}")
        return found["t1"] - found["t0"]
    finally:
        page.close()


def _query(**params: str) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


def _beacons(site, run: str) -> dict[str, float] | None:
    got = {kind: b["t"] for kind, b in site.beacons if b.get("run") == run}
    return got if {"t0", "t1"} <= got.keys() else None


def clicks(ctx, site, runs: int, kind: str) -> list[float]:
    out = []
    for i in range(runs):
        if kind == "known":
            target = f"https://emeeting.mic.gov.vn/bench-landing/{i}"
        else:
            target = f"https://unknown-{uuid.uuid4().hex[:10]}.example.net/bench-landing/{i}"
        out.append(click_once(ctx, site, target))
    return out


def hover_batch(ctx, proxy, links: int, runs: int) -> list[dict[str, float]]:
    results = []
    for _ in range(runs):
        seed = uuid.uuid4().hex[:8]
        before = len(proxy.link_checks("hover"))
        page = ctx.new_page()
        page.goto(f"https://{h.WEBMAIL_HOST}/many/{links}?seed={seed}")
        origin = page.evaluate("performance.timeOrigin")
        h.poll(
            lambda n=before: (
                sum(len(r["json"]["urls"]) for r in proxy.link_checks("hover")[n:]) >= links
            ),
            timeout=20,
            interval=0.01,
        )
        time.sleep(0.3)  # anything split off would arrive now
        mine = proxy.link_checks("hover")[before:]
        done = max(r["t"] + r["ms"] / 1000 for r in mine)
        page.hover(f"#l{links - 1}")
        state = page.locator("meetguard-badge").get_attribute("data-meetguard-state")
        results.append(
            {
                "requests": len(mine),
                "urls": sum(len(r["json"]["urls"]) for r in mine),
                "service_ms": sum(r["ms"] for r in mine),
                "ready_ms": done * 1000 - origin,
                "badge_ready_on_hover": state == "done",
            }
        )
        page.close()
    return results


def describe(name: str, values: list[float]) -> str:
    values = sorted(values)
    p90 = values[min(len(values) - 1, int(len(values) * 0.9))]
    return (
        f"{name:<34} median {statistics.median(values):7.2f} ms   p90 {p90:7.2f} ms   "
        f"min {values[0]:7.2f} ms   (n={len(values)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--links", type=int, default=50)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="meetguard-bench-") as tmp:
        work = Path(tmp)
        (work / "service").mkdir()
        site = h.FixtureSite(work).start()
        service = h.Service(work / "service").start()
        proxy = h.RecordingProxy(service.port)
        policy = {
            "serverUrl": proxy.url,
            "apiKey": h.CLIENT_KEY,
            "webmailHosts": [h.WEBMAIL_HOST],
            "language": "en",
        }
        try:
            with sync_playwright() as p:
                with h.launch_browser(p, site, None, extension=False) as ctx:
                    clicks(ctx, site, 2, "known")
                    baseline = clicks(ctx, site, args.runs, "known")
                with h.launch_browser(p, site, policy) as ctx:
                    h.wait_for_policy(h.service_worker(ctx))
                    clicks(ctx, site, 2, "known")
                    clicks(ctx, site, 2, "server")
                    known = clicks(ctx, site, args.runs, "known")
                    server = clicks(ctx, site, args.runs, "server")
                    hover = hover_batch(ctx, proxy, args.links, max(3, args.runs // 3))
        finally:
            proxy.close()
            service.stop()
            site.stop()

    base = statistics.median(baseline)
    print(f"Chromium {h.CHROMIUM}, extension {h.EXTENSION_ID}, meetguard serve on loopback\n")
    print("Click to navigation start (mouse-up -> destination timeOrigin)")
    print(describe("without the extension (baseline)", baseline))
    print(describe("known destination (snapshot)", known))
    print(describe("server-checked destination", server))
    print(
        "  added by MeetGuard, median: "
        f"known {statistics.median(known) - base:+.2f} ms (goal < 5), "
        f"server-checked {statistics.median(server) - base:+.2f} ms (goal < 50)\n"
    )
    print(f"Hover checks for a webmail message with {args.links} links (goal: one request)")
    for i, r in enumerate(hover, 1):
        print(
            f"  run {i}: {r['requests']} request(s), {r['urls']} URLs, "
            f"service {r['service_ms']:.1f} ms, "
            f"all verdicts back {r['ready_ms']:.0f} ms after navigation start, "
            f"badge final on first hover: {r['badge_ready_on_hover']}"
        )


if __name__ == "__main__":
    main()
