/*
 * Windows shortcuts (.lnk, [MS-SHLLINK]) that start a command interpreter or script host.
 *
 * A shortcut is recognised by its ShellLinkHeader: HeaderSize 0x4C and the LinkCLSID
 * 00021401-0000-0000-C000-000000000046. Its target and command line may be in LinkInfo (ANSI),
 * in StringData (UTF-16LE when IsUnicode is set) or in ExtraData blocks, hence `ascii wide`.
 * A shortcut that opens a document in its usual application (Word, a PDF reader) matches nothing.
 */

rule LNK_Launches_Command_Interpreter
{
    meta:
        code = "signature"
        severity = "high"
        message_en = "This is a Windows shortcut that starts a command tool (such as Command Prompt or PowerShell) instead of opening a document. Do not open it."
        message_vi = "Đây là tệp lối tắt (shortcut) của Windows, khi mở sẽ chạy công cụ dòng lệnh (như Command Prompt hoặc PowerShell) chứ không mở tài liệu. Đừng mở tệp này."
        reference = "https://attack.mitre.org/techniques/T1204/002/"

    strings:
        $cmd = "cmd.exe" ascii wide nocase
        $comspec = "%comspec%" ascii wide nocase
        $powershell = "powershell" ascii wide nocase
        $pwsh = "pwsh.exe" ascii wide nocase
        $mshta = "mshta" ascii wide nocase
        $wscript = "wscript" ascii wide nocase
        $cscript = "cscript" ascii wide nocase
        $rundll32 = "rundll32" ascii wide nocase
        $regsvr32 = "regsvr32" ascii wide nocase
        $certutil = "certutil" ascii wide nocase
        $bitsadmin = "bitsadmin" ascii wide nocase
        $msiexec = "msiexec" ascii wide nocase
        $forfiles = "forfiles" ascii wide nocase
        $conhost = "conhost" ascii wide nocase
        $schtasks = "schtasks" ascii wide nocase
        $curl = "curl.exe" ascii wide nocase

    condition:
        uint32(0) == 0x0000004C
        and uint32(4) == 0x00021401 and uint32(8) == 0x00000000
        and uint32(12) == 0x000000C0 and uint32(16) == 0x46000000
        and any of them
}

rule LNK_Runs_Hidden_Or_Remote_Command
{
    meta:
        code = "signature"
        severity = "critical"
        message_en = "This Windows shortcut secretly runs commands (in a hidden or minimised window, with encoded code, or fetching code from the Internet). It is a common way to install malware. Do not open it."
        message_vi = "Tệp lối tắt (shortcut) này âm thầm chạy lệnh (cửa sổ bị ẩn hoặc thu nhỏ, mã lệnh bị mã hóa hoặc tải từ Internet). Đây là cách thường dùng để cài mã độc. Đừng mở tệp này."
        reference = "https://attack.mitre.org/techniques/T1204/002/"

    strings:
        // hidden window, evasion flags
        $hidden = "hidden" ascii wide nocase
        $nop = "-nop" ascii wide nocase
        $bypass = "bypass" ascii wide nocase
        $enc = "-enc" ascii wide nocase
        // code from elsewhere
        $http = "http://" ascii wide nocase
        $https = "https://" ascii wide nocase
        $webdav = "davwwwroot" ascii wide nocase
        $js_url = "javascript:" ascii wide nocase
        $vbs_url = "vbscript:" ascii wide nocase
        $b64 = "frombase64string" ascii wide nocase
        $dl1 = "downloadstring" ascii wide nocase
        $dl2 = "downloadfile" ascii wide nocase
        $dl3 = "invoke-webrequest" ascii wide nocase
        $dl4 = "iwr " ascii wide nocase
        $dl5 = "start-bitstransfer" ascii wide nocase
        $dl6 = "-urlcache" ascii wide nocase
        $dl7 = "/transfer" ascii wide nocase
        $iex1 = "invoke-expression" ascii wide nocase
        $iex2 = "iex(" ascii wide nocase
        $iex3 = "| iex" ascii wide nocase
        $iex4 = "|iex" ascii wide nocase
        // dropped into user-writable places
        $tmp1 = "%temp%" ascii wide nocase
        $tmp2 = "$env:temp" ascii wide nocase
        $tmp3 = "%appdata%" ascii wide nocase
        $tmp4 = "%public%" ascii wide nocase

    condition:
        LNK_Launches_Command_Interpreter
        and (
            any of them
            // ShowCommand (header offset 0x3C) = SW_SHOWMINNOACTIVE: start minimised, unnoticed
            or uint32(0x3C) == 7
        )
}
