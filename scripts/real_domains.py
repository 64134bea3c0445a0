"""Write `signatures/lookalike/real_domains.txt`: real popular domains that are never look-alikes.

    python scripts/real_domains.py SOURCE [--commit SHA] [--out FILE]

SOURCE is Chromium's top-domains list (`components/url_formatter/spoof_checks/top_domains/
domains.list` in the Chromium source, BSD-3-Clause licensed): a local copy, or its raw URL on a
machine that may fetch it. Chromium builds its lookalike checks on the same list. Lines are
domains, one per line; Chromium's `###END_TOP_BUCKET###` marker and comments are dropped, the
rest kept in order and deduplicated. IT adds its own real domains to `policy.toml`'s
`[lookalike] allow`, not here, so a regeneration never loses them.
"""

from __future__ import annotations

import argparse
import re
import sys
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "signatures" / "lookalike" / "real_domains.txt"
_DOMAIN = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")
HEADER = """\
# Real popular domains: never flagged as look-alikes of a meeting platform.
# Source: Chromium's top-domains list ({source}{commit}),
#   Copyright The Chromium Authors, BSD-3-Clause licence (see the Chromium source's LICENSE).
# Regenerate: python scripts/real_domains.py SOURCE --commit SHA   (do not edit by hand;
# add your organisation's own real domains to policy.toml [lookalike] allow instead).
"""


def read_source(source: str) -> str:
    if re.match(r"^https?://", source):
        with urllib.request.urlopen(source, timeout=30) as response:  # noqa: S310 (operator's URL)
            return response.read().decode("utf-8")
    return Path(source).read_text(encoding="utf-8")


def domains_of(text: str) -> list[str]:
    """The domains of a top-domains list, in order, once each.

    >>> domains_of("a.com\\n###END_TOP_BUCKET###\\n# x\\nb.co.uk\\na.com\\n")
    ['a.com', 'b.co.uk']
    """
    seen: dict[str, None] = {}
    for line in text.splitlines():
        domain = line.split("#", 1)[0].strip().lower()
        if domain and _DOMAIN.match(domain):
            seen.setdefault(domain)
    return list(seen)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="path or URL of Chromium's domains.list")
    parser.add_argument("--commit", default="", help="the Chromium commit it was taken at")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    try:
        domains = domains_of(read_source(args.source))
    except (OSError, UnicodeDecodeError) as exc:
        print(f"real_domains: cannot read {args.source}: {exc}", file=sys.stderr)
        return 1
    if len(domains) < 100:
        print(f"real_domains: {args.source} holds only {len(domains)} domains; not written",
              file=sys.stderr)
        return 1
    commit = f" at commit {args.commit}" if args.commit else ""
    header = HEADER.format(source="components/url_formatter/spoof_checks/top_domains/domains.list",
                           commit=commit)
    args.out.write_text(header + "\n".join(domains) + "\n", encoding="utf-8")
    print(f"real_domains: {len(domains)} domains written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
