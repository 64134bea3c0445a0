"""Real things for the browser tests and the extension benchmark.

- ``FixtureSite``: one local port that answers HTTP *and* TLS for any host name. Chromium is
  started with ``--host-resolver-rules`` mapping every host to it, so ``https://zoom.us/...``
  reaches this server and nothing leaves the machine. It serves a webmail-like page, landing
  pages for every destination, a Safe Links-style redirector and files to download.
- ``Service``: the real ``meetguard serve`` on a free port with its own data directory.
- ``RecordingProxy``: a transparent HTTP proxy in front of the service that records each request
  (method, path, JSON body), so a test can see how many link checks the extension sent.
- ``launch_browser``: Debian's Chromium with the extension loaded, configured through an
  enterprise policy file, exactly as IT would deploy it.
"""

from __future__ import annotations

import contextlib
import fcntl
import html
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EXTENSION_DIR = ROOT / "extension"
EXTENSION_ID = "fjohchajgcodhajcjibppmjpnaahofda"
CHROMIUM = "/usr/bin/chromium"
POLICY_DIR = Path("/etc/chromium/policies/managed")
BROWSER_LOCK = "/tmp/meetguard-browser-tests.lock"  # one browser reading policy files at a time
CLIENT_KEY = "test-client-key-0123456789"
ADMIN_TOKEN = "test-admin-token-0123456789"
EICAR = rb"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"
CLEAN_FILE = b"Agenda for the weekly meeting on eMeeting MIC.\n"
WEBMAIL_HOST = "mail.example.org"

# The links of the webmail fixture: name -> (href, expected class). Look-alikes must never be
# classed as the platform they imitate; the Safe Links wrapper is judged by what it wraps.
LINKS = {
    "approved": ("https://emeeting.mic.gov.vn/room/4711", "approved"),
    "warned": ("https://zoom.us/j/5551234567", "warned"),
    "unknown": ("https://docs.example.net/agenda.html", "unknown"),
    # google.com in Cyrillic letters, with Meet's link shape (meet.ԍооԍӏе.com)
    "lookalike": ("https://meet.xn--e1ara49ctjc.com/abc-defg-hij", "unknown"),
    "safelinks": (
        "https://nam12.safelinks.protection.outlook.com/?url="
        + urllib.parse.quote("https://zoom.us/j/7778889999", safe="")
        + "&data=05%7C01&reserved=0",
        "warned",
    ),
    "deeplink": ("zoommtg://zoom.us/join?confno=5551234567", "warned"),
}
# Added by the page's own script after load, like a single-page webmail opening a message.
LATE_LINKS = {
    "late-warned": ("https://teams.microsoft.com/l/meetup-join/19%3ameeting_x", "warned"),
    "late-unknown": ("https://late.example.net/minutes.html", "unknown"),
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _anchor(name: str, href: str) -> str:
    return f'<li><a id="{name}" href="{html.escape(href)}">{html.escape(href)}</a></li>'


def webmail_page() -> str:
    links = "\n".join(_anchor(n, h) for n, (h, _) in LINKS.items())
    late = json.dumps({n: h for n, (h, _) in LATE_LINKS.items()})
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Webmail</title>
<style>body{{font:15px sans-serif;margin:20px}} li{{margin:10px 0}}</style></head>
<body><h1>Inbox</h1><div id="message"><p>Dear colleague, the meeting links:</p>
<ul id="links">{links}</ul></div>
<div id="later"></div>
<script>
// Links a single-page app adds after load: the test calls this once the first scan is seen
// (a timer raced the content script's start on a slow machine).
window.addLateLinks = () => {{
  const late = {late};
  const ul = document.createElement('ul');
  for (const [id, href] of Object.entries(late)) {{
    const li = document.createElement('li');
    const a = document.createElement('a');
    a.id = id; a.href = href; a.textContent = href;
    li.append(a); ul.append(li);
  }}
  document.getElementById('later').append(ul);
  document.body.dataset.lateAdded = '1';
}};
</script></body></html>"""


def many_links_page(count: int, seed: str = "") -> str:
    """A message with `count` links to distinct unknown hosts (fresh per `seed`)."""
    items = "".join(
        f'<a id="l{i}" href="https://site{i}{seed}.example.net/meeting/{i}">site {i}</a> '
        for i in range(count)
    )
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Bench</title>
<style>body{{font:11px sans-serif;margin:8px}} a{{margin:2px}}</style></head>
<body>{items}</body></html>"""


def bench_click_page(target: str, run: str) -> str:
    """One link; the time of the mouse-up that starts the click is sent as a beacon."""
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>Click</title></head><body>
<a id="go" href="{html.escape(target)}" style="font-size:40px">open</a>
<script>
addEventListener('mouseup', (e) => navigator.sendBeacon('/__bench/t0',
  JSON.stringify({{run: {json.dumps(run)}, t: performance.timeOrigin + e.timeStamp}})), true);
</script></body></html>"""


BENCH_LANDING = """<!doctype html><html><head><meta charset="utf-8"><title>Landed</title></head>
<body>
<h1 id="landed">landed</h1>
<script>
navigator.sendBeacon('/__bench/t1', JSON.stringify({
  run: new URLSearchParams(location.search).get('run'), t: performance.timeOrigin }));
</script></body></html>"""


DOWNLOADS_PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>Files</title></head>
<body>
<a id="eicar" href="/files/eicar.com">eicar.com</a>
<a id="clean" href="/files/agenda.txt">agenda.txt</a></body></html>"""


@dataclass
class FixtureSite:
    """HTTP and HTTPS on one port for every host name; records what it was asked for."""

    workdir: Path
    port: int = 0
    requests: list[tuple[str, str]] = field(default_factory=list)
    beacons: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    pages: dict[tuple[str, str], str] = field(default_factory=dict)
    """Extra pages a test serves: (host, path) -> HTML."""
    _server: ThreadingHTTPServer | None = None

    def start(self) -> FixtureSite:
        cert, key = _self_signed_cert(self.workdir)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        site = self

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def finish_request(self, request, client_address):
                # A TLS ClientHello starts with 0x16; anything else is plain HTTP.
                request.settimeout(10)
                try:
                    if request.recv(1, socket.MSG_PEEK) != b"\x16":
                        self.RequestHandlerClass(request, client_address, self)
                        return
                    with context.wrap_socket(request, server_side=True) as tls:
                        self.RequestHandlerClass(tls, client_address, self)
                except (OSError, ssl.SSLError):
                    return

        class Handler(_SiteHandler):
            fixture = site

        self._server = Server(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    def hosts_requested(self) -> set[str]:
        return {host for host, _ in self.requests}


class _SiteHandler(BaseHTTPRequestHandler):
    fixture: FixtureSite
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _send(
        self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if self.path.startswith("/__bench/"):
            self.fixture.beacons.append((self.path.rsplit("/", 1)[1], json.loads(body)))
        self._send(204, b"", "text/plain")

    def do_GET(self) -> None:
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        url = urllib.parse.urlsplit(self.path)
        self.fixture.requests.append((host, self.path))
        if host.endswith(".safelinks.protection.outlook.com"):
            target = urllib.parse.parse_qs(url.query).get("url", [""])[0]
            return self._send(302, b"", "text/plain", {"Location": target})
        if (host, url.path) in self.fixture.pages:
            return self._send(200, self.fixture.pages[host, url.path].encode(),
                              "text/html; charset=utf-8")
        if host == WEBMAIL_HOST and url.path in ("/", "/inbox"):
            return self._send(200, webmail_page().encode(), "text/html; charset=utf-8")
        query = urllib.parse.parse_qs(url.query)
        if url.path.startswith("/many/"):
            count = int(url.path.rsplit("/", 1)[1])
            page = many_links_page(count, query.get("seed", [""])[0])
            return self._send(200, page.encode(), "text/html; charset=utf-8")
        if url.path == "/bench-click":
            page = bench_click_page(query["target"][0], query["run"][0])
            return self._send(200, page.encode(), "text/html; charset=utf-8")
        if url.path.startswith("/bench-landing"):
            return self._send(200, BENCH_LANDING.encode(), "text/html; charset=utf-8")
        if url.path == "/downloads.html":
            return self._send(200, DOWNLOADS_PAGE.encode(), "text/html; charset=utf-8")
        if url.path == "/files/eicar.com":
            disposition = {"Content-Disposition": 'attachment; filename="eicar.com"'}
            return self._send(200, EICAR, "application/octet-stream", disposition)
        if url.path == "/files/agenda.txt":
            disposition = {"Content-Disposition": 'attachment; filename="agenda.txt"'}
            return self._send(200, CLEAN_FILE, "text/plain", disposition)
        if url.path == "/favicon.ico":
            return self._send(404, b"", "text/plain")
        body = (
            "<!doctype html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(host)}</title></head>"
            f"<body><h1 id='landed'>{html.escape(host)}</h1>"
            f"<p>{html.escape(self.path)}</p>"
            f"<a id='onward' href='https://onward.example.net/from/{html.escape(host)}'>onward</a>"
            "</body></html>"
        )
        return self._send(200, body.encode(), "text/html; charset=utf-8")


def _self_signed_cert(workdir: Path) -> tuple[str, str]:
    cert, key = workdir / "fixture-cert.pem", workdir / "fixture-key.pem"
    if not cert.exists():
        subprocess.run(
            [
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=meetguard-fixture",
                "-keyout",
                str(key),
                "-out",
                str(cert),
            ],
            check=True,
            capture_output=True,
        )
    return str(cert), str(key)


def meetguard_command() -> list[str]:
    beside = Path(sys.executable).with_name("meetguard")
    exe = str(beside) if beside.exists() else shutil.which("meetguard")
    if exe is None:
        raise RuntimeError("the meetguard command is not installed (pip install -e .)")
    return [exe]


def serve_available() -> bool:
    """True when this checkout's ``meetguard`` has the ``serve`` command."""
    try:
        done = subprocess.run(
            [*meetguard_command(), "serve", "--help"], capture_output=True, timeout=60
        )
    except (RuntimeError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


@dataclass
class Service:
    """The real ``meetguard serve`` on a fixed port with its own data directory."""

    data_dir: Path
    port: int = field(default_factory=free_port)
    extra_args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    """Extra environment, e.g. MEETGUARD_SIGNATURES for a test's own signatures."""
    proc: subprocess.Popen | None = None
    _log: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> Service:
        env = {
            **os.environ,
            "MEETGUARD_CLIENT_KEYS": CLIENT_KEY,
            "MEETGUARD_ADMIN_TOKENS": ADMIN_TOKEN,
            **self.env,
        }
        cmd = [
            *meetguard_command(),
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--data-dir",
            str(self.data_dir),
            *self.extra_args,
        ]
        self._log = open(self.data_dir / "serve.log", "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(cmd, env=env, stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"meetguard serve exited: {self.log_tail()}")
            with contextlib.suppress(OSError):
                if self.get("/healthz")[0] == 200:
                    return self
            time.sleep(0.1)
        raise RuntimeError(f"meetguard serve did not become healthy: {self.log_tail()}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self) -> str:
        path = self.data_dir / "serve.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""

    def get(self, path: str, token: str = CLIENT_KEY) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"}
        request = urllib.request.Request(self.url + path, headers=headers)  # noqa: S310 - loopback
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, None

    def logs(self, **query: str) -> list[dict[str, Any]]:
        """Every record of /v1/logs matching ``query`` (follows the cursor)."""
        items: list[dict[str, Any]] = []
        params = dict(query)
        while True:
            status, page = self.get("/v1/logs?" + urllib.parse.urlencode(params), ADMIN_TOKEN)
            assert status == 200, f"/v1/logs answered {status}"
            items.extend(page["items"])
            if not page.get("next_cursor"):
                return items
            params["cursor"] = page["next_cursor"]


class RecordingProxy:
    """Forwards every request to the service and records (method, path, body)."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.records: list[dict[str, Any]] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")
                }
                started = time.perf_counter()
                conn = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=30)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    upstream = conn.getresponse()
                    data = upstream.read()
                except OSError:
                    self.send_error(502)
                    return
                finally:
                    conn.close()
                record: dict[str, Any] = {
                    "method": self.command,
                    "path": self.path,
                    "status": upstream.status,
                    "ms": (time.perf_counter() - started) * 1000,
                    "t": time.time(),
                }
                if body and (self.headers.get("Content-Type") or "").startswith("application/json"):
                    record["json"] = json.loads(body)
                if "json" in (upstream.getheader("Content-Type") or "") and data:
                    record["answer"] = json.loads(data)
                proxy.records.append(record)
                self.send_response(upstream.status)
                for k, v in upstream.getheaders():
                    if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = _forward

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def link_checks(self, context: str | None = None) -> list[dict[str, Any]]:
        return [
            r
            for r in self.records
            if r["path"] == "/v1/links/check"
            and (context is None or r.get("json", {}).get("context") == context)
        ]

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextlib.contextmanager
def managed_policy(values: dict[str, Any]) -> Iterator[Path]:
    """Writes the extension's enterprise policy for Chromium; removes it afterwards.

    Browser runs are serialised through a lock file: two Chromiums started at once would read
    each other's policy files.
    """
    POLICY_DIR.mkdir(parents=True, exist_ok=True)
    lock = open(BROWSER_LOCK, "w")  # noqa: SIM115 - closed below
    fcntl.flock(lock, fcntl.LOCK_EX)
    path = POLICY_DIR / f"meetguard-test-{os.getpid()}.json"
    try:
        path.write_text(json.dumps({"3rdparty": {"extensions": {EXTENSION_ID: values}}}))
        yield path
    finally:
        path.unlink(missing_ok=True)
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()


def chromium_args(site_port: int) -> list[str]:
    ext = str(EXTENSION_DIR)
    return [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--ignore-certificate-errors",
        f"--host-resolver-rules=MAP * 127.0.0.1:{site_port}, EXCLUDE 127.0.0.1, EXCLUDE localhost",
        f"--disable-extensions-except={ext}",
        f"--load-extension={ext}",
    ]


@contextlib.contextmanager
def launch_browser(
    playwright, site: FixtureSite, policy: dict[str, Any] | None, *, extension: bool = True
) -> Iterator[Any]:
    """A persistent Chromium context with the extension (and its enterprise policy) loaded."""
    tmp = Path(tempfile.mkdtemp(prefix="meetguard-chromium-"))
    (tmp / "tmp").mkdir()
    env = {**os.environ, "TMPDIR": str(tmp / "tmp")}
    args = chromium_args(site.port)
    if not extension:
        args = [a for a in args if "extension" not in a]
    policy_cm = managed_policy(policy) if policy is not None else contextlib.nullcontext()
    try:
        with policy_cm:
            ctx = playwright.chromium.launch_persistent_context(
                str(tmp / "profile"),
                headless=True,
                executable_path=CHROMIUM,
                accept_downloads=True,
                args=args,
                env=env,
                viewport={"width": 1000, "height": 700},
            )
            try:
                yield ctx
            finally:
                ctx.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def service_worker(ctx: Any, timeout: float = 15_000) -> Any:
    for sw in ctx.service_workers:
        if EXTENSION_ID in sw.url:
            return sw
    return ctx.wait_for_event(
        "serviceworker", predicate=lambda w: EXTENSION_ID in w.url, timeout=timeout
    )


def extension_url(path: str) -> str:
    return f"chrome-extension://{EXTENSION_ID}/{path}"


def wait_for_policy(sw: Any, timeout: float = 20) -> dict[str, Any]:
    """Waits until the worker holds a policy snapshot from the service, and returns it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stored = sw.evaluate("chrome.storage.local.get('policy').then((r) => r.policy ?? null)")
        rules = sw.evaluate("chrome.declarativeNetRequest.getDynamicRules().then((r) => r.length)")
        if stored and rules:
            return stored
        time.sleep(0.2)
    raise AssertionError("the extension never stored a policy snapshot from the service")


def artifacts_dir() -> Path:
    path = Path(os.environ.get("MEETGUARD_ARTIFACTS") or ROOT / "artifacts")
    path.mkdir(parents=True, exist_ok=True)
    return path


def poll(fn, timeout: float = 15, interval: float = 0.2):
    """Calls fn() until it returns something truthy; returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = fn()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
