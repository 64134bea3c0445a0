"""Where the bundled signatures are."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def default_signatures_dir() -> Path:
    """`$MEETGUARD_SIGNATURES`, else the checkout's `signatures/`, else the installed copy."""
    configured = os.environ.get("MEETGUARD_SIGNATURES")
    if configured:
        return Path(configured)
    checkout = Path(__file__).resolve().parents[2] / "signatures"
    if (checkout / "platforms.toml").is_file():
        return checkout
    return Path(sys.prefix) / "share" / "meetguard" / "signatures"
