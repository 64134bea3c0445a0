"""A real webmail for the browser tests: Debian's Roundcube (PHP's built-in server, SQLite),
Dovecot for IMAP with two users, and a small SMTP server that delivers what Roundcube sends into
the recipient's IMAP mailbox (so a test reads back, over IMAP, exactly what left).

Everything runs as the test's own processes on loopback ports, configured in a temporary
directory (nothing under /etc is changed): Roundcube reads ROUNDCUBE_CONFIG_DIR.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import imaplib
import os
import shutil
import socket
import socketserver
import sqlite3
import subprocess
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROUNDCUBE_ROOT = Path("/var/lib/roundcube/public_html")
ROUNDCUBE_SQL = Path("/usr/share/roundcube/SQL/sqlite.initial.sql")
ROUNDCUBE_DEFAULTS = Path("/etc/roundcube/defaults.inc.php")
USERS = {"alice": "alice-pass-1", "friend": "friend-pass-1"}
"""IMAP users: alice writes (logged into Roundcube); friend receives everything sent."""


def available() -> bool:
    return all(shutil.which(c) for c in ("php", "dovecot")) and ROUNDCUBE_ROOT.is_dir()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for Roundcube: EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT."""

    server: _SmtpServer

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 meetguard-test ESMTP")
        recipients: list[str] = []
        while line := self.rfile.readline():
            verb = line.decode(errors="replace").strip().split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250-meetguard-test\r\n250 8BITMIME" if verb == "EHLO" else "250 ok")
            elif verb == "MAIL":
                recipients = []
                self.reply("250 ok")
            elif verb == "RCPT":
                recipients.append(line.decode().split(":", 1)[1].strip().strip("<>"))
                self.reply("250 ok")
            elif verb == "DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                self.server.deliver(recipients, self._data())
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:  # RSET, NOOP, anything else
                self.reply("250 ok")

    def _data(self) -> bytes:
        lines = []
        while (line := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
            lines.append(line[1:] if line.startswith(b"..") else line)
        return b"".join(lines)


class _SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, imap_port: int) -> None:
        super().__init__(("127.0.0.1", port), _SmtpHandler)
        self.imap_port = imap_port
        self.envelopes: list[tuple[list[str], bytes]] = []

    def deliver(self, recipients: list[str], message: bytes) -> None:
        """Every message goes to friend's INBOX, whoever it was addressed to."""
        self.envelopes.append((recipients, message))
        with imaplib.IMAP4("127.0.0.1", self.imap_port) as imap:
            imap.login("friend", USERS["friend"])
            imap.append("INBOX", None, None, message)


@dataclass
class Webmail:
    """Dovecot + SMTP sink + Roundcube, each on its own loopback port."""

    root: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="meetguard-rc-")))
    imap_port: int = field(default_factory=_free_port)
    smtp_port: int = field(default_factory=_free_port)
    http_port: int = field(default_factory=_free_port)
    _php: subprocess.Popen | None = None
    _php_log: Any = None
    _smtp: _SmtpServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.http_port}"

    def start(self) -> Webmail:
        os.chmod(self.root, 0o755)  # noqa: S103 - dovecot's unprivileged users walk into it
        self._start_dovecot()
        self._smtp = _SmtpServer(self.smtp_port, self.imap_port)
        threading.Thread(target=self._smtp.serve_forever, daemon=True).start()
        self._start_roundcube()
        return self

    def _start_dovecot(self) -> None:
        mail = self.root / "mail"
        mail.mkdir()
        os.chmod(mail, 0o777)  # noqa: S103 - mail is written as nobody (userdb static)
        users = "".join(f"{u}:{{PLAIN}}{p}\n" for u, p in USERS.items())
        (self.root / "users").write_text(users)
        conf = self.root / "dovecot.conf"
        conf.write_text(f"""protocols = imap
listen = 127.0.0.1
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = dovenull
default_internal_user = dovecot
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root}/users
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={mail}/%u
}}
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  mailbox Sent {{
    special_use = \\Sent
    auto = create
  }}
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
}}
""")
        # The daemon keeps what it inherits open: never a pipe we would wait on.
        subprocess.run(["dovecot", "-c", str(conf)], check=True, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_port(self.imap_port)

    def _start_roundcube(self) -> None:
        config = self.root / "roundcube"
        (config / "logs").mkdir(parents=True)
        (config / "temp").mkdir()
        shutil.copy(ROUNDCUBE_DEFAULTS, config / "defaults.inc.php")
        db = config / "roundcube.db"
        with sqlite3.connect(db) as conn:
            conn.executescript(ROUNDCUBE_SQL.read_text())
        self._write_config()
        env = {**os.environ, "ROUNDCUBE_CONFIG_DIR": str(config)}
        self._php_log = (config / "logs" / "php.log").open("ab")
        self._php = subprocess.Popen(
            ["php", "-S", self.host, "-t", str(ROUNDCUBE_ROOT)], env=env,
            stdout=self._php_log, stderr=subprocess.STDOUT)
        _wait_port(self.http_port)
        with urllib.request.urlopen(self.url + "/", timeout=30) as response:  # noqa: S310
            assert response.status == 200

    def _write_config(self) -> None:
        config = self.root / "roundcube"
        (config / "config.inc.php").write_text(f"""<?php
$config = [];
$config['db_dsnw'] = 'sqlite:///{config}/roundcube.db?mode=0646';
$config['imap_host'] = '127.0.0.1:{self.imap_port}';
$config['smtp_host'] = '127.0.0.1:{self.smtp_port}';
$config['smtp_user'] = '';
$config['smtp_pass'] = '';
$config['log_dir'] = '{config}/logs/';
$config['temp_dir'] = '{config}/temp/';
$config['des_key'] = 'meetguard-test-des-key-24';
$config['skin'] = 'elastic';
$config['plugins'] = [];
$config['draft_autosave'] = 0;
$config['mail_domain'] = 'moj.gov.vn';
$config['enable_spellcheck'] = false;
""")

    def stop(self) -> None:
        if self._php is not None:
            self._php.terminate()
            self._php.wait(10)
            self._php_log.close()
        if self._smtp is not None:
            self._smtp.shutdown()
            self._smtp.server_close()
        conf = self.root / "dovecot.conf"
        if conf.exists():
            subprocess.run(["dovecot", "-c", str(conf), "stop"], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def put(self, user: str, raw: bytes) -> None:
        """Puts a message in `user`'s INBOX (IMAP APPEND)."""
        with imaplib.IMAP4("127.0.0.1", self.imap_port) as imap:
            imap.login(user, USERS[user])
            imap.append("INBOX", None, None, raw)

    def messages(self, user: str) -> list[email.message.EmailMessage]:
        """Every message in `user`'s INBOX, read over IMAP."""
        out = []
        with imaplib.IMAP4("127.0.0.1", self.imap_port) as imap:
            imap.login(user, USERS[user])
            imap.select("INBOX", readonly=True)
            _, data = imap.search(None, "ALL")
            for number in data[0].split():
                _, parts = imap.fetch(number, "(RFC822)")
                out.append(email.message_from_bytes(parts[0][1], policy=email.policy.default))
        return out
