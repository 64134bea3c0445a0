"""Fixtures for the pure core: the bundled signatures, loaded once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from meetguard.classify import Classifier
from meetguard.policy import Policy, load_policy

SIGNATURES = Path(__file__).resolve().parents[2] / "signatures"


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy(SIGNATURES)


@pytest.fixture(scope="session")
def classifier(policy: Policy) -> Classifier:
    return Classifier(policy)
