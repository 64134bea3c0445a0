"""Benchmark of the classification core. Prints figures; asserts nothing.

    python bench/bench_core.py [--urls N] [--repeat R] [--skip-cli] [--skip-files]

Reference (the floor): bare ada-url parsing plus tldextract on the same URLs, in the same run.
Figures:
  * distinct URLs/s through the whole pipeline, on one core, with every cache cold for the URL
    (two corpora: mail-like links over a few thousand hosts, and every URL on a new host);
  * cached URLs/s (the same URLs again, as the service's in-process cache answers them);
  * p50/p99 per URL; memory (RSS) after loading the policy and after the run;
  * `meetguard check --format jsonl -` end to end, per URL, against the floor;
  * file scanning: `meetguard scan` against the `yara` command line on the same rules and files.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import ada_url
import tldextract

from meetguard.classify import Classifier, classify_link
from meetguard.policy import Policy, load_policy

ROOT = Path(__file__).resolve().parents[1]
SIGNATURES = ROOT / "signatures"
WORDS = ["alpha", "bravo", "news", "shop", "mail", "cloud", "data", "hanoi", "saigon", "dev",
         "portal", "gov", "edu", "video", "meet", "info", "tech", "bank", "store", "media",
         "baocao", "hoso", "congvan", "lichhop", "tailieu"]
TLDS = ["com", "net", "org", "vn", "com.vn", "gov.vn", "edu.vn", "io", "co.uk", "de", "jp"]
PLATFORM_LINKS = ["https://us02web.zoom.us/j/{n}?pwd=abc{n}",
                  "https://emeeting.mic.gov.vn/room/{n}",
                  "https://teams.microsoft.com/l/meetup-join/19%3ameeting_{n}%40thread.v2/0",
                  "https://meet.google.com/abc-{n}", "https://zo0m-us.com/j/{n}",
                  "https://bit.ly/{n}", "https://acme.webex.com/meet/{n}"]


def mail_corpus(count: int, hosts: int, seed: int = 1) -> list[str]:
    """Distinct URLs as found in mail: a few thousand hosts (Zipf-like), some platform links,
    some wrapped by Safe Links or Google."""
    rnd = random.Random(seed)
    population = [f"{rnd.choice(['', 'www.'])}{rnd.choice(WORDS)}{rnd.randrange(10**5)}."
                  f"{rnd.choice(TLDS)}" for _ in range(hosts)]
    # cumulative weights: choices() then bisects instead of summing per draw (300,000 URLs)
    cumulative = list(itertools.accumulate(1 / (i + 1) ** 1.1 for i in range(hosts)))
    urls = []
    for n in range(count):
        roll = rnd.random()
        if roll < 0.10:
            url = rnd.choice(PLATFORM_LINKS).format(n=n)
        else:
            host = rnd.choices(population, cum_weights=cumulative)[0]
            url = f"https://{host}/{rnd.choice(WORDS)}/{n}?id={rnd.randrange(10**9)}"
        if rnd.random() < 0.03:
            wrapped = quote(url, safe="")
            url = f"https://nam12.safelinks.protection.outlook.com/?url={wrapped}&data=x"
        urls.append(url)
    return urls


def fresh_host_corpus(count: int, seed: int = 2) -> list[str]:
    """The worst case: every URL on a host never seen before."""
    rnd = random.Random(seed)
    return [f"https://{rnd.choice(WORDS)}{n}-{rnd.randrange(10**6)}.{rnd.choice(TLDS)}/"
            f"{rnd.choice(WORDS)}?id={n}" for n in range(count)]


def best_of(repeat: int, run: Callable[[], float]) -> float:
    """The fastest of `repeat` runs: the least disturbed by the rest of the machine."""
    return min(run() for _ in range(repeat))


def time_floor(urls: list[str]) -> float:
    extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None,
                                    include_psl_private_domains=True)
    start = time.perf_counter()
    for url in urls:
        extract.extract_str(ada_url.URL(url).hostname)
    return (time.perf_counter() - start) / len(urls)


def time_pipeline(urls: list[str]) -> float:
    policy = load_policy(SIGNATURES)  # a fresh snapshot: every per-host memo is cold
    gc.freeze()
    start = time.perf_counter()
    for url in urls:
        classify_link(policy, url)
    return (time.perf_counter() - start) / len(urls)


def time_cached(policy: Policy, urls: list[str]) -> float:
    classifier = Classifier(policy, cache_size=len(urls) + 1)
    for url in urls:
        classifier.link(url)
    start = time.perf_counter()
    for url in urls:
        classifier.link(url)
    return (time.perf_counter() - start) / len(urls)


def latencies(urls: list[str]) -> tuple[float, float]:
    policy = load_policy(SIGNATURES)
    gc.freeze()
    samples = []
    clock = time.perf_counter_ns
    for url in urls:
        start = clock()
        classify_link(policy, url)
        samples.append(clock() - start)
    samples.sort()
    return samples[len(samples) // 2] / 1e3, samples[int(len(samples) * 0.99)] / 1e3


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def time_cli(urls: list[str]) -> tuple[float, float]:
    """Seconds for `meetguard check --format jsonl -` over `urls`, and for one URL (start-up)."""
    with tempfile.TemporaryDirectory() as tmp:
        listing = Path(tmp) / "urls.txt"
        listing.write_text("\n".join(urls) + "\n", encoding="utf-8")
        one = Path(tmp) / "one.txt"
        one.write_text(urls[0] + "\n", encoding="utf-8")
        command = [sys.executable, "-m", "meetguard.cli", "check", "--format", "jsonl", "-"]

        def run(path: Path) -> float:
            with path.open("rb") as stdin:
                start = time.perf_counter()
                subprocess.run(command, stdin=stdin, stdout=subprocess.DEVNULL, check=True)
                return time.perf_counter() - start

        return best_of(3, lambda: run(listing)), best_of(3, lambda: run(one))


def bench_files(policy: Policy) -> None:
    """`meetguard scan` against `yara` on the same rules and files: end to end, and with each
    tool's start-up (measured on one tiny file) taken out, which is the scanning itself."""
    yara_cli = shutil.which("yara")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "files"
        folder.mkdir()
        rnd = random.Random(3)
        total = 0
        for n in range(400):
            size = rnd.choice([4 << 10, 64 << 10, 512 << 10, 2 << 20])
            data = rnd.randbytes(size)
            if n % 10 == 0:
                data = b"MZ" + data[2:]
            (folder / f"file{n:03d}.bin").write_bytes(data)
            total += size
        tiny = Path(tmp) / "tiny.txt"
        tiny.write_bytes(b"hello\n")
        files = sorted(str(p) for p in folder.iterdir())
        ours = [sys.executable, "-m", "meetguard.cli", "scan", "--format", "jsonl"]
        ours_s = best_of(3, lambda: _run([*ours, *files]))
        ours_start = best_of(3, lambda: _run([*ours, str(tiny)]))
        print(f"files: {len(files)} files, {total / 2**20:.1f} MiB")
        print(f"  meetguard scan: {ours_s:.3f} s end to end (hashing included), start-up "
              f"{ours_start:.3f} s")
        if yara_cli is None:
            print("  yara command line: not installed (apt-get install yara) - no ratio")
            return
        rules = [str(p) for p in sorted((SIGNATURES / "yara" / "file").glob("*.yar"))]
        # Both sides use the machine's cores: yara's default threads, our thread pool.
        theirs = [yara_cli, "-d", "filename=x.bin", "-d", "extension=bin", "-d", "mime=", *rules]
        theirs_s = best_of(3, lambda: _run([*theirs, str(folder)]))
        theirs_start = best_of(3, lambda: _run([*theirs, str(tiny)]))
        print(f"  yara command line: {theirs_s:.3f} s end to end, start-up {theirs_start:.3f} s")
        scan_ratio = (ours_s - ours_start) / (theirs_s - theirs_start)
        print(f"  ratio meetguard/yara: {ours_s / theirs_s:.2f} end to end (Python's own start-up"
              f" included); scanning alone {scan_ratio:.2f} (goal <= 1.2)")


def _run(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--urls", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-cli", action="store_true")
    parser.add_argument("--skip-files", action="store_true")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})  # one core, as the goal says
    print(f"python {sys.version.split()[0]}, pinned to core 0; best of {args.repeat}")
    policy = load_policy(SIGNATURES)
    print(f"policy {policy.version}: RSS after load {rss_mb():.0f} MB")
    for name, urls in (("mail-like (distinct URLs, 3,000 hosts)", mail_corpus(args.urls, 3000)),
                       ("fresh hosts (every URL a new host)", fresh_host_corpus(args.urls))):
        floor = best_of(args.repeat, lambda urls=urls: time_floor(urls))
        full = best_of(args.repeat, lambda urls=urls: time_pipeline(urls))
        cached = best_of(args.repeat, lambda urls=urls: time_cached(policy, urls))
        p50, p99 = latencies(urls)
        print(f"{name}: {len(urls):,} URLs")
        print(f"  floor (ada-url + tldextract): {floor * 1e6:6.2f} us/URL"
              f"  {1 / floor:10,.0f} URLs/s")
        print(f"  pipeline, uncached:           {full * 1e6:6.2f} us/URL"
              f"  {1 / full:10,.0f} URLs/s  ratio to floor {full / floor:.2f}")
        print(f"  pipeline, cached:             {cached * 1e6:6.2f} us/URL"
              f"  {1 / cached:10,.0f} URLs/s")
        print(f"  per URL latency: p50 {p50:.1f} us, p99 {p99:.1f} us")
        if not args.skip_cli:
            total, startup = time_cli(urls)
            per_url = (total - startup) / len(urls)
            print(f"  meetguard check --format jsonl: {total:.2f} s total, start-up "
                  f"{startup:.2f} s, {per_url * 1e6:.2f} us/URL = {per_url / floor:.2f}x floor"
                  " (goal <= 4);"
                  f" with start-up {total / len(urls) / floor:.2f}x")
    print(f"RSS after runs: {rss_mb():.0f} MB")
    if not args.skip_files:
        bench_files(policy)


if __name__ == "__main__":
    main()
