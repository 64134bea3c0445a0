"""Print the lowest version of each runtime dependency that pyproject.toml admits, one
`name==version` per line, for `scripts/test` to run the suite against. Exits non-zero, with
a one-line message, when a dependency has no lower bound (`>=` or `==`)."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
_SPEC = re.compile(r"^\s*([A-Za-z0-9._-]+)\s*(?:\[[^\]]*\])?\s*(.*)$")
_LOWER = re.compile(r"^\s*(?:>=|==|~=)\s*([0-9][^\s;]*)\s*$")


def lowest(requirement: str) -> str:
    """`name==lowest` for one requirement string.

    >>> lowest("aiohttp>=3.14,<4"), lowest("ada-url==4.0.0")
    ('aiohttp==3.14', 'ada-url==4.0.0')
    """
    match = _SPEC.match(requirement)
    if match is None:
        raise ValueError(f"cannot read the requirement {requirement!r}")
    name, specs = match.groups()
    for spec in specs.split(","):
        bound = _LOWER.match(spec)
        if bound is not None:
            return f"{name}=={bound.group(1)}"
    raise ValueError(f"{name} has no lower bound in pyproject.toml ({requirement!r})")


def main() -> None:
    dependencies = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["dependencies"]
    try:
        print("\n".join(lowest(requirement) for requirement in dependencies))
    except ValueError as exc:
        sys.exit(f"lowest_versions: {exc}")


if __name__ == "__main__":
    main()
