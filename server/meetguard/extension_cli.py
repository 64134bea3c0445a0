"""`meetguard extension keygen|pack|policy`: the rollout kit's thin command line."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any, TextIO

from .extension_kit import KitError, default_source, keygen, pack, read_pack
from .extension_policy import (
    BROWSERS,
    LINUX_DIRS,
    SYSTEMS,
    Rollout,
    ca_certificate,
    default_file_name,
    default_install_url,
    managed_values,
    plain_http_warning,
    render,
    write_policy,
)


def add_parser(commands: Any, parser_class: type[argparse.ArgumentParser]) -> None:
    sub = commands.add_parser("extension", help="pack, sign and roll out the browser extension")
    verbs = sub.add_subparsers(dest="verb", required=True, parser_class=parser_class)

    key = verbs.add_parser("keygen", help="make the organisation's extension signing key",
                           description="Make the RSA key that signs the CRX. The extension id "
                                       "comes from it: keep it safe and keep it.")
    key.add_argument("--out", type=Path, required=True, metavar="DIR")
    key.add_argument("--force", action="store_true", help="replace an existing key (new id)")
    key.set_defaults(run=run_keygen)

    packer = verbs.add_parser("pack", help="write the CRX (Chromium browsers) and XPI (Firefox)")
    packer.add_argument("--key", type=Path, required=True, metavar="KEY")
    packer.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="the service's extension_dir")
    packer.add_argument("--source", type=Path, default=None, metavar="DIR",
                        help="the extension's directory (default: this checkout's)")
    packer.add_argument("--version", dest="pack_version", metavar="X.Y.Z",
                        help="the packs' version (default: manifest.json's)")
    packer.add_argument("--service-url", metavar="URL",
                        help="the service that hosts the packs: the packs' update_url points "
                             "at URL/extension/updates.xml (Chromium) and updates.json (Firefox)")
    packer.set_defaults(run=run_pack)

    _add_policy(verbs)


def _add_policy(verbs: Any) -> None:
    policy = verbs.add_parser(
        "policy", help="write the policy that force-installs and configures the extension",
        description="Write the enterprise policy for one browser and OS: Linux JSON, a "
                    "Windows .reg, a macOS .mobileconfig. Values are validated against the "
                    "extension's managed_schema.json first; nothing is written otherwise.")
    policy.add_argument("--browser", choices=BROWSERS, required=True)
    policy.add_argument("--os", dest="system", choices=SYSTEMS, required=True)
    policy.add_argument("--server-url", required=True, metavar="URL",
                        help="the MeetGuard service the extension talks to")
    policy.add_argument("--client-key", required=True, metavar="KEY")
    policy.add_argument("--update-url", metavar="URL",
                        help="Chromium browsers: the update manifest (default SERVER_URL/"
                             "extension/updates.xml); Firefox: the XPI (default SERVER_URL/"
                             "extension/meetguard.xpi)")
    policy.add_argument("--pack", type=Path, metavar="DIR",
                        help="the directory `pack` wrote (gives the extension's ids)")
    policy.add_argument("--id", dest="extension_id", metavar="ID",
                        help="the extension id (Chromium) or gecko id (Firefox), without --pack")
    policy.add_argument("--webmail-host", action="append", default=[], metavar="HOST")
    policy.add_argument("--fail-mode", choices=("open", "closed"))
    policy.add_argument("--language", choices=("vi", "en"))
    policy.add_argument("--ca-cert", action="append", default=[], metavar="FILE",
                        help="trust this CA for the service's HTTPS. Chromium browsers: the "
                             "certificate file here (PEM/DER), embedded as CACertificates; "
                             "Firefox: the absolute path where desktops have it "
                             "(Certificates.Install)")
    policy.add_argument("--out", type=Path, metavar="FILE",
                        help="file to write (default: standard output)")
    policy.set_defaults(run=run_policy)


def run_keygen(args: argparse.Namespace, out: TextIO) -> int:
    path, ext_id = _kit(keygen, args.out, force=args.force)
    print(f"key: {path}\nextension id: {ext_id}", file=out)
    return 0


def run_pack(args: argparse.Namespace, out: TextIO) -> int:
    done = _kit(pack, args.source or default_source(), args.key, args.out,
                version=args.pack_version, service_url=args.service_url)
    print(f"extension id: {done.id} (Firefox: {done.gecko_id}), version {done.version}\n"
          f"  {args.out / done.crx}\n  {args.out / done.xpi}", file=out)
    if not args.service_url:
        print("meetguard extension pack: warning: without --service-url the packs name no "
              "update URL: Firefox will not find later versions (Chromium browsers use the "
              "policy's)", file=sys.stderr)
    elif warning := plain_http_warning(args.service_url):
        print(f"meetguard extension pack: {warning}", file=sys.stderr)
    return 0


def run_policy(args: argparse.Namespace, out: TextIO) -> int:
    rollout = _kit(_rollout, args)
    if warning := plain_http_warning(args.server_url):
        print(f"meetguard extension policy: {warning}", file=sys.stderr)
    if args.out is None:
        data = render(rollout)
        out.flush()
        if hasattr(out, "buffer"):
            out.buffer.write(data)
        else:  # a text stream without bytes underneath (tests)
            out.write(data.decode("utf-16" if rollout.system == "windows" else "utf-8"))
        return 0
    path = _kit(write_policy, rollout, args.out)
    where = LINUX_DIRS[args.browser] if args.system == "linux" else None
    hint = f" (install as {where}{default_file_name(rollout)})" if where else ""
    print(f"wrote {path}{hint}", file=out)
    return 0


def _rollout(args: argparse.Namespace) -> Rollout:
    managed = managed_values(server_url=args.server_url, client_key=args.client_key,
                             webmail_hosts=args.webmail_host, fail_mode=args.fail_mode,
                             language=args.language)
    return Rollout(args.browser, args.system, _extension_id(args),
                   args.update_url or default_install_url(args.browser, managed["serverUrl"]),
                   managed, _certificates(args))


def _certificates(args: argparse.Namespace) -> tuple[str, ...]:
    if args.browser != "firefox":
        return tuple(ca_certificate(Path(path)) for path in args.ca_cert)
    relative = [path for path in args.ca_cert if not Path(path).is_absolute()]
    if relative:
        raise KitError(f"--ca-cert {relative[0]}: for Firefox, the absolute path of the "
                       "certificate file on the desktops")
    return tuple(args.ca_cert)


def _extension_id(args: argparse.Namespace) -> str:
    if args.extension_id:
        if args.browser != "firefox" and not re.fullmatch(r"[a-p]{32}", args.extension_id):
            raise KitError(f"--id {args.extension_id!r} is not a Chromium extension id "
                           "(32 letters a-p)")
        return args.extension_id
    if args.pack is not None:
        described = read_pack(args.pack)
        return described.gecko_id if args.browser == "firefox" else described.id
    if args.browser == "firefox":
        manifest = json.loads((default_source() / "manifest.json").read_text(encoding="utf-8"))
        return manifest["browser_specific_settings"]["gecko"]["id"]
    raise KitError("the extension id is needed: give --pack DIR (where `meetguard extension "
                   "pack` wrote) or --id ID")


def _kit(function: Any, *args: Any, **kwargs: Any) -> Any:
    """Runs a kit step; a file it cannot read or write becomes one line naming the file
    (`meetguard.cli.main` prints every MeetGuardError as one line)."""
    try:
        return function(*args, **kwargs)
    except OSError as exc:
        raise KitError(f"{exc.filename or ''}: {exc.strerror or exc}") from None
