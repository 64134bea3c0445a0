/*
 * Programs and scripts dressed up as documents.
 *
 * The file name rules look only at the `filename` external (the base name the user sees); the
 * content rules look at the bytes and at how the file is presented (its extension, its name and
 * the MIME type the server claims). A real program named `setup.exe` and served as a program is
 * not a disguise and matches nothing here: that is the file-type layer's business.
 *
 * Document-looking extensions, used below (keep the lists in step):
 *   names and native programs: pdf, Office, OpenDocument, rtf, txt, csv, ics, images, audio,
 *   video (and, for double extensions only, zip/rar/7z/html archives and pages)
 *   scripts: the same without txt/csv, whose content may legitimately be script text
 */

rule File_Name_Double_Extension
{
    meta:
        code = "dangerous-file-type"
        severity = "high"
        message_en = "The file name hides its real type behind a fake document extension (for example 'invite.pdf.exe'). This trick makes a program look like a document."
        message_vi = "Tên tệp che giấu loại tệp thật sau một đuôi tài liệu giả (ví dụ 'invite.pdf.exe'). Đây là thủ đoạn làm cho một chương trình trông giống như tài liệu."
        reference = "https://attack.mitre.org/techniques/T1036/007/"

    condition:
        // <document extension> [padding: spaces, dots, _ ~ -, Unicode blanks] .<executable extension>
        filename matches /\.(pdf|docx?|docm|dotx?|xlsx?|xlsm|xlsb|pptx?|pptm|ppsx?|odt|ods|odp|rtf|txt|csv|ics|jpe?g|png|gif|bmp|tiff?|webp|heic|mp3|mp4|m4a|wav|avi|mov|mkv|wmv|zip|rar|7z|html?)([\s._~-]|\xC2\xA0|\xE2\x80[\x80-\x8F\xAF]|\xE2\x81\x9F|\xE3\x80\x80|\xE3\x85\xA4|\xE2\xA0\x80)*\.(exe|scr|com|pif|cpl|msi|msc|bat|cmd|js|jse|vbs|vbe|wsf|wsh|hta|ps1|psm1|lnk|url|jar|iso|img|vhdx?|chm|reg|appref-ms|application|library-ms|search-ms|settingcontent-ms)$/i
}

rule File_Name_Right_To_Left_Override
{
    meta:
        code = "dangerous-file-type"
        severity = "high"
        message_en = "The file name contains a hidden character that reverses the text, so the name you see is not the real name. It is used to disguise dangerous files."
        message_vi = "Tên tệp chứa một ký tự ẩn làm đảo ngược chữ, nên tên bạn nhìn thấy không phải tên thật. Thủ đoạn này được dùng để ngụy trang tệp nguy hiểm."
        reference = "https://attack.mitre.org/techniques/T1036/002/"

    condition:
        // U+202E RIGHT-TO-LEFT OVERRIDE (UTF-8): 'invite\u202Efdp.exe' shows as 'inviteexe.pdf'
        filename matches /\xE2\x80\xAE/
}

rule Executable_Disguised_As_Document
{
    meta:
        code = "signature"
        severity = "critical"
        message_en = "This file is a program pretending to be a document or picture. Opening it would run it on your computer. Do not open it."
        message_vi = "Tệp này là một chương trình được ngụy trang thành tài liệu hoặc hình ảnh. Nếu mở, chương trình sẽ chạy trên máy tính của bạn. Đừng mở tệp này."
        reference = "https://attack.mitre.org/techniques/T1036/008/"

    condition:
        (
            // Windows PE: MZ, e_lfanew -> "PE\0\0"
            (uint16(0) == 0x5A4D and uint32(0x3C) < 0x10000 and uint32(uint32(0x3C)) == 0x00004550)
            // ELF
            or uint32(0) == 0x464C457F
            // Mach-O 32/64-bit, either byte order
            or uint32(0) == 0xFEEDFACE or uint32(0) == 0xFEEDFACF
            or uint32(0) == 0xCEFAEDFE or uint32(0) == 0xCFFAEDFE
            // Mach-O universal binary (a Java class has the same magic but a version >= 45 here)
            or (uint32be(0) == 0xCAFEBABE and uint32be(4) > 0 and uint32be(4) < 20)
        )
        and (
            extension matches /^(pdf|docx?|docm|dotx?|xlsx?|xlsm|xlsb|pptx?|pptm|ppsx?|odt|ods|odp|rtf|txt|csv|ics|jpe?g|png|gif|bmp|tiff?|webp|heic|mp3|mp4|m4a|wav|avi|mov|mkv|wmv)$/
            or File_Name_Double_Extension
            or File_Name_Right_To_Left_Override
            or mime matches /^(application\/(pdf|msword|rtf|vnd\.ms-(excel|powerpoint)|vnd\.openxmlformats-officedocument\.|vnd\.oasis\.opendocument\.)|image\/|audio\/|video\/)/
        )
}

rule Script_Disguised_As_Document
{
    meta:
        code = "signature"
        severity = "high"
        message_en = "This file is a script (a small program) pretending to be a document or picture. Do not open it."
        message_vi = "Tệp này là một đoạn mã lệnh (chương trình nhỏ) được ngụy trang thành tài liệu hoặc hình ảnh. Đừng mở tệp này."
        reference = "https://attack.mitre.org/techniques/T1036/008/"

    strings:
        // HTML Application
        $hta = "<hta:application" ascii wide nocase
        // Windows Script Host (VBScript, JScript, WSF)
        $wsh1 = "WScript.Shell" ascii wide nocase
        $wsh2 = "WScript.CreateObject" ascii wide nocase
        $wsh3 = "Shell.Application" ascii wide nocase
        $wsh4 = "Scripting.FileSystemObject" ascii wide nocase
        $wsh5 = "ActiveXObject" ascii wide nocase
        $wsh6 = "ADODB.Stream" ascii wide nocase
        $wsh7 = "MSXML2.XMLHTTP" ascii wide nocase
        // PowerShell
        $ps1 = "Invoke-Expression" ascii wide nocase
        $ps2 = "FromBase64String" ascii wide nocase
        $ps3 = "DownloadString" ascii wide nocase
        $ps4 = "DownloadFile" ascii wide nocase
        $ps5 = "Invoke-WebRequest" ascii wide nocase
        $ps6 = "Net.WebClient" ascii wide nocase
        $ps7 = "Start-Process" ascii wide nocase
        $ps8 = "-EncodedCommand" ascii wide nocase
        // batch file (at the start, after an optional byte-order mark)
        $bat = "@echo off" ascii wide nocase

    condition:
        // not a real document or image (their own content may quote script text)
        not (
            uint32(0) == 0x46445025        // %PDF
            or uint32(0) == 0x04034B50     // zip (OOXML, ODF)
            or uint32(0) == 0xE011CFD0     // OLE2
            or uint32(0) == 0x74725C7B     // {\rt
            or uint32(0) == 0x474E5089     // PNG
            or uint16(0) == 0xD8FF         // JPEG
            or uint32(0) == 0x38464947     // GIF8
        )
        and (any of ($hta, $wsh*, $ps*) or $bat in (0..4))
        and (
            extension matches /^(pdf|docx?|docm|dotx?|xlsx?|xlsm|xlsb|pptx?|pptm|ppsx?|odt|ods|odp|rtf|ics|jpe?g|png|gif|bmp|tiff?|webp|heic|mp3|mp4|m4a|wav|avi|mov|mkv|wmv)$/
            or File_Name_Double_Extension
            or File_Name_Right_To_Left_Override
            or mime matches /^(application\/(pdf|msword|rtf|vnd\.ms-(excel|powerpoint)|vnd\.openxmlformats-officedocument\.|vnd\.oasis\.opendocument\.)|image\/|audio\/|video\/)/
        )
}
