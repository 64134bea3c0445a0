"""Specification of the YARA file rules (`signatures/yara/file/*.yar`) and the hash lists.

The rules are compiled and matched exactly as the service does (see DESIGN.md, "File checks"):
all rule files together, one namespace per file stem, three string externals (`filename`: the
base name the user sees, `extension`: its last extension in lower case, `mime`), a 5 s timeout.

`SPEC` is the heart of it: one row per sample file as it would arrive, and the *exact* set of
rules that must match it. Every rule not listed must not match, so each row is both a detection
test and a precision test. The samples are real files built in `tests/support/samples.py`.
"""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import yara
from tests.support import samples

ROOT = Path(__file__).resolve().parents[2]
RULES_DIR = ROOT / "signatures" / "yara" / "file"
HASHES_DIR = ROOT / "signatures" / "hashes"

COMPILE_EXTERNALS = {"filename": "", "extension": "", "mime": ""}
TIMEOUT = 5

CODES = {"signature", "dangerous-file-type", "known-bad"}
SEVERITIES = {"low", "medium", "high", "critical"}
REQUIRED_META = ("code", "severity", "message_en", "message_vi")
# Letters with Vietnamese diacritics: a message_vi without any of them lost its diacritics (or is
# not Vietnamese at all).
VIETNAMESE_LETTERS = re.compile(
    "[ăâđêôơưàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ]"
)


def rule_files() -> list[Path]:
    return sorted(RULES_DIR.glob("*.yar"))


def compile_rules() -> yara.Rules:
    """Compile like the service: every file, namespace = file stem, warnings are errors."""
    return yara.compile(
        filepaths={path.stem: str(path) for path in rule_files()},
        externals=COMPILE_EXTERNALS,
        error_on_warning=True,
    )


@pytest.fixture(scope="module")
def rules() -> yara.Rules:
    return compile_rules()


@pytest.fixture(scope="module")
def severity_of(rules: yara.Rules) -> dict[str, str]:
    return {rule.identifier: rule.meta.get("severity", "") for rule in rules}


def extension_of(filename: str) -> str:
    """The last extension, lower case, without the dot ('' when there is none)."""
    return filename.rsplit(".", 1)[1].lower() if "." in filename else ""


def externals_for(filename: str, mime: str) -> dict[str, str]:
    return {"filename": filename, "extension": extension_of(filename), "mime": mime}


def scan(rules: yara.Rules, data: bytes, filename: str, mime: str) -> set[str]:
    matches = rules.match(data=data, externals=externals_for(filename, mime), timeout=TIMEOUT)
    return {m.rule for m in matches}


# --------------------------------------------------------------------------------------------
# The specification
# --------------------------------------------------------------------------------------------

EICAR = "EICAR_Test_File"
DOUBLE_EXT = "File_Name_Double_Extension"
RTLO = "File_Name_Right_To_Left_Override"
EXE_AS_DOC = "Executable_Disguised_As_Document"
SCRIPT_AS_DOC = "Script_Disguised_As_Document"
LNK_SHELL = "LNK_Launches_Command_Interpreter"
LNK_HIDDEN = "LNK_Runs_Hidden_Or_Remote_Command"
SMUGGLING = "HTML_Smuggling_Blob_Download"
OLE_MACROS = "Office_OLE2_VBA_Macros"
OOXML_MACROS = "Office_OOXML_VBA_Project"
MACRO_NAME = "Office_Macro_Enabled_File_Name"
DISK_IMAGE = "Disk_Image_File"
IMAGE_PROGRAM = "Disk_Image_Contains_Program"
IMAGE_SHORTCUT = "Disk_Image_Contains_Shortcut"
ONENOTE = "OneNote_Embedded_Program_Or_Script"
CHM = "CHM_Compiled_Help_File"
FAKE_INSTALLER = "Fake_Meeting_App_Installer_Unsigned"

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE
OCTET = "application/octet-stream"


def case(
    sample: Callable[[], bytes], filename: str, mime: str, expected: set[str], id: str,
) -> object:
    return pytest.param(sample, filename, mime, expected, id=id)


SPEC = [
    # EICAR: the standard string at the start, optionally followed by white space (<= 128 bytes).
    case(samples.eicar, "eicar.com", OCTET, {EICAR}, "eicar"),
    case(lambda: samples.eicar() + b"\r\n   \t\r\n", "eicar.txt", "text/plain", {EICAR},
         "eicar with trailing white space"),
    case(lambda: b" " * 60 + samples.eicar(), "eicar.txt", "text/plain", {EICAR},
         "eicar ending at byte 128"),
    case(lambda: b" " * 61 + samples.eicar(), "eicar.txt", "text/plain", set(),
         "eicar ending past byte 128 is not the test file"),
    case(lambda: b"A" * 1000 + samples.eicar(), "quoted.txt", "text/plain", set(),
         "document quoting the eicar string deep inside"),

    # Native programs dressed as documents.
    case(samples.pe, "invite.pdf.exe", "application/pdf", {EXE_AS_DOC, DOUBLE_EXT},
         "PE named invite.pdf.exe"),
    case(samples.pe, "report.docx      .exe", OCTET, {EXE_AS_DOC, DOUBLE_EXT},
         "PE with blanks before .exe"),
    case(samples.pe, "report.docx\u2800.scr", OCTET, {EXE_AS_DOC, DOUBLE_EXT},
         "PE with a Unicode blank before .scr"),
    case(samples.pe, f"invite{RLO}fdp.exe", OCTET, {EXE_AS_DOC, RTLO},
         "PE with right-to-left override in its name"),
    case(samples.pe, "agenda.pdf", OCTET, {EXE_AS_DOC}, "PE named .pdf"),
    case(samples.pe, "photo.JPG", "image/jpeg", {EXE_AS_DOC}, "PE named .JPG"),
    case(samples.pe, "download", "application/pdf", {EXE_AS_DOC},
         "PE served as application/pdf"),
    case(samples.elf, "invoice.pdf", OCTET, {EXE_AS_DOC}, "ELF named .pdf"),
    case(samples.macho, "Meeting notes.docx", OCTET, {EXE_AS_DOC}, "Mach-O named .docx"),
    case(samples.macho_universal, "Meeting notes.pdf", OCTET, {EXE_AS_DOC},
         "universal Mach-O named .pdf"),
    case(samples.java_class, "photo.jpg", OCTET, set(),
         "Java class (same magic as universal Mach-O) is not a native program"),
    case(samples.pe, "setup.exe", "application/x-msdownload", set(),
         "PE named .exe is not a disguise"),
    case(samples.elf, "meeting-client", OCTET, set(), "ELF without extension"),

    # Names alone.
    case(samples.pdf, "agenda.pdf.exe", OCTET, {DOUBLE_EXT}, "double extension, any content"),
    case(samples.pdf, f"agenda{RLO}exe.pdf", "application/pdf", {RTLO},
         "right-to-left override, any content"),
    case(samples.pdf, "Q3.report.final.pdf", "application/pdf", set(),
         "dotted name that ends in a document"),
    case(samples.zip_archive, "photos.jpg.zip", "application/zip", set(),
         "document extension before a non-executable one"),

    # Scripts dressed as documents.
    case(samples.hta, "agenda.pdf.hta", "application/hta", {SCRIPT_AS_DOC, DOUBLE_EXT},
         "HTA named agenda.pdf.hta"),
    case(samples.hta, "agenda.pdf", "application/pdf", {SCRIPT_AS_DOC}, "HTA named .pdf"),
    case(samples.jscript, "invoice.pdf.js", "text/javascript", {SCRIPT_AS_DOC, DOUBLE_EXT},
         "JScript named invoice.pdf.js"),
    case(samples.vbscript, "scan.jpg.vbs", OCTET, {SCRIPT_AS_DOC, DOUBLE_EXT},
         "VBScript named scan.jpg.vbs"),
    case(samples.powershell_utf16, "minutes.docx.ps1", OCTET, {SCRIPT_AS_DOC, DOUBLE_EXT},
         "UTF-16 PowerShell named minutes.docx.ps1"),
    case(samples.batch, f"agenda{RLO}fdp.bat", OCTET, {SCRIPT_AS_DOC, RTLO},
         "batch file with right-to-left override"),
    case(samples.jscript, "app.js", "text/javascript", set(), "script named as a script"),
    case(samples.powershell_utf16, "setup.ps1", OCTET, set(), "PowerShell named .ps1"),
    case(samples.plain_text_notes, "notes.docx", "text/plain", set(),
         "text that mentions PowerShell"),

    # Windows shortcuts.
    case(samples.lnk_cmd_unicode, "Meeting agenda.pdf.lnk", OCTET,
         {LNK_SHELL, LNK_HIDDEN, DOUBLE_EXT}, "LNK: cmd + hidden PowerShell, named .pdf.lnk"),
    case(samples.lnk_cmd_unicode, "Meeting agenda.lnk", OCTET, {LNK_SHELL, LNK_HIDDEN},
         "LNK: cmd + hidden PowerShell (UTF-16LE strings)"),
    case(samples.lnk_mshta_url, "Invitation.lnk", OCTET, {LNK_SHELL, LNK_HIDDEN},
         "LNK: mshta with a remote HTA"),
    case(samples.lnk_cmd_minimised, "Meeting agenda.lnk", OCTET, {LNK_SHELL, LNK_HIDDEN},
         "LNK: cmd starting minimised"),
    case(samples.lnk_cmd_ansi, "Command Prompt.lnk", OCTET, {LNK_SHELL},
         "LNK: CMD.EXE in LinkInfo (ANSI), plain command"),
    case(samples.lnk_word_document, "Meeting agenda.lnk", OCTET, set(),
         "LNK: opens a document in Word"),

    # HTML smuggling.
    case(samples.html_smuggling, "Invitation.html", "text/html", {SMUGGLING},
         "HTML smuggling: atob + Blob + createObjectURL + download"),
    case(samples.html_smuggling_mssave, "Invitation.htm", "text/html", {SMUGGLING},
         "HTML smuggling: byte array + msSaveOrOpenBlob"),
    case(samples.html_clean_download_link, "agenda.html", "text/html", set(),
         "HTML with a plain download link"),
    case(samples.html_clean_csv_export, "attendance.html", "text/html", set(),
         "HTML exporting its table as CSV through a Blob"),

    # Office macros.
    case(samples.ole_doc_with_macros, "agenda.doc", "application/msword", {OLE_MACROS},
         "OLE2 .doc with a VBA project"),
    case(samples.vba_project_bin, "vbaProject.bin", OCTET, {OLE_MACROS}, "vbaProject.bin"),
    case(samples.ole_doc_clean, "agenda.doc", "application/msword", set(),
         "OLE2 .doc without macros"),
    case(samples.docm, "agenda.docm", OCTET, {OOXML_MACROS, MACRO_NAME}, "OOXML .docm"),
    case(samples.docm, "agenda.docx", OCTET, {OOXML_MACROS},
         "OOXML with vbaProject.bin named .docx"),
    case(samples.docx, "agenda.docx", OCTET, set(), "OOXML .docx without macros"),
    case(samples.docx, "budget.XLSM", OCTET, {MACRO_NAME}, "macro-enabled name alone"),
    case(samples.zip_archive, "agenda.zip", "application/zip", set(), "plain zip"),

    # Disk images.
    case(samples.iso9660, "meeting.iso", "application/x-iso9660-image", {DISK_IMAGE},
         "ISO 9660 with a text file"),
    case(samples.iso9660, "meeting.img", OCTET, {DISK_IMAGE}, "ISO 9660 named .img"),
    case(samples.iso_with_exe, "setup.iso", OCTET, {DISK_IMAGE, IMAGE_PROGRAM},
         "ISO 9660 with a program"),
    case(samples.iso_with_lnk, "Invitation.iso", OCTET,
         {DISK_IMAGE, IMAGE_PROGRAM, IMAGE_SHORTCUT}, "ISO 9660 with a shortcut and a DLL"),
    case(samples.iso9660, "invoice.pdf.iso", OCTET, {DISK_IMAGE, DOUBLE_EXT},
         "ISO 9660 named invoice.pdf.iso"),
    case(samples.udf_vrs, "disk.img", OCTET, {DISK_IMAGE}, "UDF recognition sequence"),
    case(samples.fat12_image, "floppy.img", OCTET, {DISK_IMAGE}, "FAT12 volume image"),
    case(samples.vhdx_header, "disk.vhdx", OCTET, {DISK_IMAGE}, "VHDX"),
    case(samples.vhd_fixed, "disk.vhd", OCTET, {DISK_IMAGE}, "fixed VHD"),

    # OneNote.
    case(samples.onenote_with_hta, "Invoice.one", OCTET, {ONENOTE}, "OneNote with an HTA"),
    case(samples.onenote_with_batch, "Invoice.one", OCTET, {ONENOTE},
         "OneNote with a batch file"),
    case(lambda: samples.onenote(samples.pe()), "Invoice.one", OCTET, {ONENOTE},
         "OneNote with a program"),
    case(samples.onenote_with_png, "Notes.one", OCTET, set(), "OneNote with a picture"),

    # Compiled help.
    case(samples.chm_header, "manual.chm", OCTET, {CHM}, "CHM"),

    # Fake meeting app installers.
    case(samples.pe, "zoom_installer.exe", OCTET, {FAKE_INSTALLER}, "unsigned zoom_installer"),
    case(samples.pe, "ZoomInstaller.exe", OCTET, {FAKE_INSTALLER}, "unsigned ZoomInstaller"),
    case(samples.pe, "MSTeamsSetup.exe", OCTET, {FAKE_INSTALLER}, "unsigned MSTeamsSetup"),
    case(samples.pe, "Vmeet-Setup.exe", OCTET, {FAKE_INSTALLER}, "unsigned Vmeet setup"),
    case(samples.pe, "Zoom_Meeting.pdf.exe", OCTET, {FAKE_INSTALLER, EXE_AS_DOC, DOUBLE_EXT},
         "unsigned Zoom_Meeting.pdf.exe"),
    case(samples.signed_pe, "ZoomInstaller.exe", OCTET, set(), "signed ZoomInstaller"),
    case(samples.pe, "SteamSetup.exe", OCTET, set(), "'teams' inside another word"),
    case(samples.elf, "zoom_installer", OCTET, set(), "not a Windows program"),

    # Ordinary files.
    case(samples.pdf, "agenda.pdf", "application/pdf", set(), "PDF"),
    case(samples.png, "photo.png", "image/png", set(), "PNG"),
]


@pytest.mark.parametrize(("sample", "filename", "mime", "expected"), SPEC)
def test_rules_match_exactly(
    rules: yara.Rules,
    sample: Callable[[], bytes],
    filename: str,
    mime: str,
    expected: set[str],
) -> None:
    assert scan(rules, sample(), filename, mime) == expected


# The clean files the service sees every day: none may trip a high or critical rule.
CLEAN = [
    pytest.param(samples.pdf, "agenda.pdf", "application/pdf", id="PDF"),
    pytest.param(samples.docx, "agenda.docx", OCTET, id="DOCX"),
    pytest.param(samples.ole_doc_clean, "agenda.doc", "application/msword", id="DOC"),
    pytest.param(samples.png, "photo.png", "image/png", id="PNG"),
    pytest.param(samples.html_clean_download_link, "agenda.html", "text/html", id="HTML"),
    pytest.param(samples.html_clean_csv_export, "export.html", "text/html", id="HTML export"),
    pytest.param(samples.pe, "setup.exe", "application/x-msdownload", id="EXE named .exe"),
    pytest.param(samples.signed_pe, "ZoomInstaller.exe", OCTET, id="signed installer"),
    pytest.param(samples.lnk_word_document, "agenda.lnk", OCTET, id="LNK to Word"),
    pytest.param(samples.plain_text_notes, "notes.txt", "text/plain", id="text"),
]


@pytest.mark.parametrize(("sample", "filename", "mime"), CLEAN)
def test_clean_files_trip_no_high_or_critical_rule(
    rules: yara.Rules,
    severity_of: dict[str, str],
    sample: Callable[[], bytes],
    filename: str,
    mime: str,
) -> None:
    serious = {
        rule for rule in scan(rules, sample(), filename, mime)
        if severity_of[rule] in {"high", "critical"}
    }
    assert serious == set()


def test_every_rule_is_specified(rules: yara.Rules) -> None:
    """Each rule is exercised by at least one row of SPEC."""
    specified = set().union(*(param.values[3] for param in SPEC))
    assert {rule.identifier for rule in rules} <= specified


# --------------------------------------------------------------------------------------------
# Compilation, meta, speed
# --------------------------------------------------------------------------------------------


def test_rule_files_exist() -> None:
    assert rule_files(), f"no rule files in {RULES_DIR}"


def test_rules_compile_together_as_the_service_compiles_them() -> None:
    assert len(list(compile_rules())) >= 10


@pytest.mark.parametrize("path", rule_files(), ids=lambda p: p.name)
def test_each_rule_file_compiles_on_its_own(path: Path) -> None:
    """A reload rejects a broken file by name: each file must stand alone."""
    yara.compile(filepath=str(path), externals=COMPILE_EXTERNALS, error_on_warning=True)


def test_rule_names_are_unique_across_files() -> None:
    names = re.findall(r"^\s*(?:private\s+|global\s+)*rule\s+(\w+)", "".join(
        path.read_text(encoding="utf-8") for path in rule_files()
    ), flags=re.MULTILINE)
    duplicates = sorted({n for n in names if names.count(n) > 1})
    assert duplicates == []


def _rules_for_meta() -> list[object]:
    try:
        return [pytest.param(rule, id=rule.identifier) for rule in compile_rules()]
    except yara.Error as error:  # the compile tests above say which file; this fails too
        return [pytest.param(str(error), id="rules-do-not-compile")]


RULES_FOR_META = _rules_for_meta()


@pytest.mark.parametrize("rule", RULES_FOR_META)
def test_rule_meta(rule: yara.Rule | str) -> None:
    if isinstance(rule, str):
        pytest.fail(f"the file rules do not compile: {rule}")
    meta = rule.meta
    # Every rule is reported on its own (the loader reads the meta of every rule it loads).
    assert not rule.is_private
    assert not rule.is_global
    missing = [key for key in REQUIRED_META if not str(meta.get(key, "")).strip()]
    assert missing == []
    assert meta["code"] in CODES
    assert meta["severity"] in SEVERITIES
    assert VIETNAMESE_LETTERS.search(meta["message_vi"].lower()), "Vietnamese with diacritics"
    assert meta["message_en"] != meta["message_vi"]
    if "reference" in meta:
        assert meta["reference"].startswith("https://")
    unknown = set(meta) - {*REQUIRED_META, "reference"}
    assert unknown == set()


def _adversarial_inputs() -> list[object]:
    """Large inputs crafted to hit as many atoms and string matches as possible."""
    size = 8 << 20
    lnk_head = samples.lnk_cmd_unicode()
    return [
        pytest.param(bytes(size), id="zeros"),
        pytest.param(bytes(range(256)) * (size // 256), id="all byte values"),
        pytest.param((b"MZ" + b"\0" * 58 + b"\x40\0\0\0PE\0\0") * (size // 68), id="MZ/PE"),
        pytest.param(lnk_head + b"h\0i\0d\0d\0e\0n\0 \0" * (size // 14), id="LNK + UTF-16"),
        pytest.param(b"<script>atob(new Blob(createObjectURL.download=" * (size // 48),
                     id="smuggling words"),
        pytest.param(samples.iso_with_lnk() + b".exe;1" * (size // 6), id="ISO + names"),
    ]


@pytest.mark.parametrize("data", _adversarial_inputs())
def test_large_adversarial_inputs_scan_within_the_timeout(rules: yara.Rules, data: bytes) -> None:
    """8 MiB of worst-case content scans without a timeout.

    Repetitive input makes some strings exceed YARA's per-string match limit (1,000,000). YARA
    then reports CALLBACK_TOO_MANY_MATCHES; unless the caller passes a `warnings_callback` that
    answers CALLBACK_CONTINUE, yara-python aborts the scan with "internal error: 30". The service
    must pass one, as done here.
    """
    too_many: list[object] = []

    def on_warning(kind: int, detail: object) -> int:
        assert kind == yara.CALLBACK_TOO_MANY_MATCHES
        too_many.append(detail)
        return yara.CALLBACK_CONTINUE

    rules.match(
        data=data,
        externals=externals_for("invite.pdf.exe", "application/pdf"),
        timeout=TIMEOUT,
        warnings_callback=on_warning,
    )


# --------------------------------------------------------------------------------------------
# The samples are what they claim to be
# --------------------------------------------------------------------------------------------

_STRUCTURE = yara.compile(source="""
import "pe"
import "elf"
rule pe_parsed { condition: pe.is_pe and pe.number_of_sections == 1 }
rule pe_signed { condition: pe.number_of_signatures == 1 and pe.signatures[0].verified }
rule elf_parsed { condition: elf.type == elf.ET_EXEC and elf.machine == elf.EM_X86_64 }
""")


def test_pe_sample_parses_and_signed_pe_verifies() -> None:
    assert {m.rule for m in _STRUCTURE.match(data=samples.pe())} == {"pe_parsed"}
    assert {m.rule for m in _STRUCTURE.match(data=samples.signed_pe())} == {
        "pe_parsed", "pe_signed",
    }


def test_elf_sample_parses() -> None:
    assert {m.rule for m in _STRUCTURE.match(data=samples.elf())} == {"elf_parsed"}


@pytest.mark.parametrize(("build", "has_vba"), [(samples.docx, False), (samples.docm, True)])
def test_ooxml_samples_are_valid_zips(build: Callable[[], bytes], has_vba: bool) -> None:
    with zipfile.ZipFile(io.BytesIO(build())) as zf:
        assert zf.testzip() is None
        assert ("word/vbaProject.bin" in zf.namelist()) is has_vba
        if has_vba:
            assert zf.read("word/vbaProject.bin")[:8] == bytes.fromhex("D0CF11E0A1B11AE1")


def test_ovba_compression_round_trips() -> None:
    """The module source decompresses back ([MS-OVBA] 2.4.1.3.1, literal tokens only)."""
    data = samples.MACRO_SOURCE.encode() * 3  # longer than one 4096-byte chunk
    packed = samples.ovba_compress(data)
    assert packed[0] == 1
    out, pos = bytearray(), 1
    while pos < len(packed):
        header = int.from_bytes(packed[pos : pos + 2], "little")
        size, compressed = (header & 0x0FFF) + 3, bool(header & 0x8000)
        body = packed[pos + 2 : pos + size]
        if not compressed:
            out += body
        else:
            i = 0
            while i < len(body):
                assert body[i] == 0, "literal tokens only"
                out += body[i + 1 : i + 9]
                i += 9
        pos += size
    assert bytes(out) == data


# --------------------------------------------------------------------------------------------
# Hash lists
# --------------------------------------------------------------------------------------------

HASH_LINE = re.compile(r"^[0-9a-f]{64}(  #.*)?$")


def hash_lists() -> list[Path]:
    return sorted(HASHES_DIR.glob("*.txt"))


def entries(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def test_hash_lists_exist() -> None:
    assert {p.name for p in hash_lists()} >= {"eicar.txt", "local.txt"}
    assert (HASHES_DIR / "README").is_file()


@pytest.mark.parametrize("path", hash_lists(), ids=lambda p: p.name)
def test_hash_list_format(path: Path) -> None:
    bad = [line for line in entries(path) if not HASH_LINE.match(line)]
    assert bad == []


def test_eicar_hash_is_listed() -> None:
    digest = hashlib.sha256(samples.eicar()).hexdigest()
    assert [line.split()[0] for line in entries(HASHES_DIR / "eicar.txt")] == [digest]


def test_local_list_starts_empty_with_instructions() -> None:
    path = HASHES_DIR / "local.txt"
    assert entries(path) == []
    assert path.read_text(encoding="utf-8").startswith("#")
