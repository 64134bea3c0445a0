"""Fixtures for the end-to-end tests: the real service, a local site for every host name, and
Debian's Chromium with the extension installed by enterprise policy."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "meetguard_browser_harness", Path(__file__).with_name("harness.py")
)
harness = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = harness
_spec.loader.exec_module(harness)


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).parent == here:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    fixture = harness.FixtureSite(tmp_path_factory.mktemp("site")).start()
    yield fixture
    fixture.stop()


@pytest.fixture(scope="session")
def service(tmp_path_factory):
    if not harness.serve_available():
        pytest.fail("`meetguard serve` is not available: the browser tests need the real service")
    svc = harness.Service(tmp_path_factory.mktemp("service")).start()
    yield svc
    svc.stop()


@pytest.fixture
def proxy(service):
    recorder = harness.RecordingProxy(service.port)
    yield recorder
    recorder.close()


@pytest.fixture(scope="session")
def playwright():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


@pytest.fixture
def open_browser(playwright, site):
    """open_browser(server_url, **policy) -> context manager of (context, service worker)."""
    if os.geteuid() != 0:
        # A skip would pass silently and prove nothing: scripts/test (and CI) run as root.
        pytest.fail("writing Chromium's enterprise policy (/etc/chromium/policies) needs root: "
                    "run scripts/test as root (or with sudo)")

    @contextlib.contextmanager
    def opener(server_url: str, *, wait_policy: bool = True, **policy):
        values = {
            "serverUrl": server_url,
            "apiKey": harness.CLIENT_KEY,
            "webmailHosts": [harness.WEBMAIL_HOST],
            "language": "en",
            **policy,
        }
        with harness.launch_browser(playwright, site, values) as ctx:
            sw = harness.service_worker(ctx)
            if wait_policy:
                harness.wait_for_policy(sw)
            yield ctx, sw

    return opener


@pytest.fixture
def artifacts():
    return harness.artifacts_dir()


@pytest.fixture(scope="session")
def h():
    """The harness module (constants and helpers) for the test modules."""
    return harness
