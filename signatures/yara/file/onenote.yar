/*
 * OneNote section files (.one) with an embedded program or script.
 *
 * A section file starts with the file type GUID {7B5C52E4-D88C-4DA7-AEB1-5378D02996D3}; each
 * embedded file is a FileDataStoreObject ({BDE316E7-2665-4511-A4C4-8D4D0B7A9EAC}) whose data is
 * stored as is. Pictures are stored the same way, so the rule also needs the embedded data to be
 * a program, a shortcut or a script. Script markers are ASCII only: the note's own text is
 * UTF-16LE, so a note that merely talks about PowerShell does not match.
 */

rule OneNote_Embedded_Program_Or_Script
{
    meta:
        code = "signature"
        severity = "critical"
        message_en = "This OneNote file contains an embedded program or script. Clicking it inside the note would run it. Do not open it."
        message_vi = "Tệp OneNote này có gắn kèm một chương trình hoặc mã lệnh. Bấm vào đó trong ghi chú sẽ chạy chương trình. Đừng mở tệp này."
        reference = "https://attack.mitre.org/techniques/T1566/001/"

    strings:
        $file_data_store = { E7 16 E3 BD 65 26 11 45 A4 C4 8D 4D 0B 7A 9E AC }
        $pe_stub = "This program cannot be run in DOS mode" ascii
        $lnk = { 4C 00 00 00 01 14 02 00 00 00 00 00 C0 00 00 00 00 00 00 46 }
        $hta = "<hta:application" ascii nocase
        $wsh1 = "WScript.Shell" ascii nocase
        $wsh2 = "WScript.CreateObject" ascii nocase
        $wsh3 = "Shell.Application" ascii nocase
        $wsh4 = "ActiveXObject" ascii nocase
        $vbs = "CreateObject(" ascii nocase
        $bat = "@echo off" ascii nocase
        $ps1 = "powershell" ascii nocase
        $ps2 = "Invoke-Expression" ascii nocase
        $ps3 = "DownloadString" ascii nocase

    condition:
        // {7B5C52E4-D88C-4DA7-AEB1-5378D02996D3}
        uint32(0) == 0x7B5C52E4 and uint32(4) == 0x4DA7D88C
        and uint32(8) == 0x7853B1AE and uint32(12) == 0xD39629D0
        and $file_data_store
        and any of ($pe_stub, $lnk, $hta, $wsh*, $vbs, $bat, $ps*)
}
