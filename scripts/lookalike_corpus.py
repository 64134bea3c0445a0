"""Regenerate the look-alike corpora the tests read (`tests/data/lookalikes/*.tsv`).

    python scripts/lookalike_corpus.py [--per-kind N] [--seed S]

Runs the attackers' own permutation engines, dnstwist and ail-typo-squatting (test extras),
over every platform domain in `signatures/platforms.toml`, and keeps for each domain and kind
of permutation a seeded sample of at most N variants (all of them where there are fewer), so
the files stay small and every kind counts. Each line: variant, kind, the domain it imitates.
Generating takes about a minute (ail-typo-squatting alone ~45 s); the tests only read the files.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import math
import random
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "data" / "lookalikes"


def protected_domains() -> list[str]:
    from meetguard.policy import load_policy

    policy = load_policy(ROOT / "signatures")
    return sorted({d for platform in policy.platforms for d in platform.domains})


def dnstwist_variants(domain: str) -> set[tuple[str, str]]:
    import dnstwist

    fuzzer = dnstwist.Fuzzer(domain)
    fuzzer.generate()
    return {(d["domain"], d["fuzzer"]) for d in fuzzer.domains if d["fuzzer"] != "*original"}


def ail_variants(domain: str) -> set[tuple[str, str]]:
    import ail_typo_squatting

    with contextlib.redirect_stdout(io.StringIO()):  # it prints as it goes
        found = ail_typo_squatting.runAll(domain, math.inf, "text", "-", givevariations=True)
    return {(variant, kind) for variant, kind in found if variant != domain}


def sample(variants: set[tuple[str, str]], per_kind: int, rnd: random.Random) -> list:
    by_kind: dict[str, list[str]] = {}
    for variant, kind in sorted(variants):
        by_kind.setdefault(kind, []).append(variant)
    out = []
    for kind, names in sorted(by_kind.items()):
        picked = names if len(names) <= per_kind else rnd.sample(names, per_kind)
        out += [(name, kind) for name in sorted(picked)]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-kind", type=int, default=60)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    domains = protected_domains()
    for name, package, generate in (("dnstwist", "dnstwist", dnstwist_variants),
                                    ("ail", "ail-typo-squatting", ail_variants)):
        rnd = random.Random(args.seed)
        lines = [f"# {package} {metadata.version(package)} over {len(domains)} platform domains, "
                 f"at most {args.per_kind} per domain and kind (seed {args.seed}).",
                 "# Regenerate: python scripts/lookalike_corpus.py   (variant, kind, imitated)"]
        for domain in domains:
            lines += [f"{v}\t{k}\t{domain}" for v, k in sample(generate(domain), args.per_kind,
                                                               rnd)]
        (OUT / f"{name}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"lookalike_corpus: {len(lines) - 2} variants in {OUT / name}.tsv")
    return 0


if __name__ == "__main__":
    sys.exit(main())
