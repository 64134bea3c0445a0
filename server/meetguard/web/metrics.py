"""Prometheus metrics in the text exposition format: counters, gauges and histograms.

Small and dependency-free on purpose: the service exposes a handful of series, and a client
library's multi-process machinery is not needed (each worker is scraped on its own port or
aggregated by labels).
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterable

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                   2.5, 5.0, 10.0)

Labels = tuple[tuple[str, str], ...]


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
    return "{" + inner + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Metrics:
    """A registry: counters and histograms by name and labels, gauges read when scraped."""

    def __init__(self) -> None:
        self._help: dict[str, tuple[str, str]] = {}
        self._counters: dict[str, dict[Labels, float]] = defaultdict(lambda: defaultdict(float))
        self._histograms: dict[str, dict[Labels, list[float]]] = defaultdict(dict)
        self._gauges: dict[str, Callable[[], Iterable[tuple[Labels, float]]]] = {}
        self._request_labels: dict[tuple[str, int], tuple[Labels, Labels]] = {}

    def describe(self, name: str, kind: str, help_text: str) -> None:
        self._help[name] = (kind, help_text)

    def inc(self, name: str, labels: Labels = (), value: float = 1.0) -> None:
        self._counters[name][labels] += value

    def request(self, route: str, status: int, seconds: float) -> None:
        """Count one HTTP request and observe its latency (on every request: labels cached)."""
        labels = self._request_labels.get((route, status))
        if labels is None:
            labels = self._request_labels[route, status] = (
                (("route", route), ("status", str(status))), (("route", route),))
        self._counters["meetguard_requests_total"][labels[0]] += 1
        self.observe("meetguard_request_duration_seconds", labels[1], seconds)

    def observe(self, name: str, labels: Labels, value: float) -> None:
        series = self._histograms[name].get(labels)
        if series is None:
            # one slot per bucket, then +Inf, then the sum
            series = self._histograms[name][labels] = [0.0] * (len(LATENCY_BUCKETS) + 2)
        series[bisect.bisect_left(LATENCY_BUCKETS, value)] += 1
        series[-1] += value

    def gauge(self, name: str, read: Callable[[], Iterable[tuple[Labels, float]]]) -> None:
        self._gauges[name] = read

    def render(self) -> str:
        lines: list[str] = []
        for name in sorted(set(self._help) | set(self._counters) | set(self._histograms)
                           | set(self._gauges)):
            kind, help_text = self._help.get(name, ("untyped", ""))
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
            for labels, value in sorted(self._counters.get(name, {}).items()):
                lines.append(f"{name}{_labels(labels)} {value:g}")
            for labels, series in sorted(self._histograms.get(name, {}).items()):
                lines += _histogram_lines(name, labels, series)
            if name in self._gauges:
                for labels, value in self._gauges[name]():
                    lines.append(f"{name}{_labels(labels)} {value:g}")
        return "\n".join(lines) + "\n"


def _histogram_lines(name: str, labels: Labels, series: list[float]) -> list[str]:
    lines = []
    running = 0.0
    for bound, count in zip((*LATENCY_BUCKETS, float("inf")), series[:-1], strict=True):
        running += count
        le = "+Inf" if bound == float("inf") else f"{bound:g}"
        lines.append(f"{name}_bucket{_labels((*labels, ('le', le)))} {running:g}")
    lines.append(f"{name}_sum{_labels(labels)} {series[-1]:g}")
    lines.append(f"{name}_count{_labels(labels)} {running:g}")
    return lines
