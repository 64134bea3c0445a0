/*
 * Office documents with VBA macros.
 *
 * OLE2 (Word/Excel/PowerPoint 97-2003): a compound file whose directory holds the `_VBA_PROJECT`
 * stream of a VBA project (directory names are UTF-16LE, hence `wide`). OOXML: a zip package
 * carrying `vbaProject.bin` (part names are stored uncompressed in the zip headers). Macro-enabled
 * extensions (.docm, .xlsm ...) are reported on their own, at a lower severity, because the name
 * says the file is meant to run macros even when the package has none.
 */

rule Office_OLE2_VBA_Macros
{
    meta:
        code = "signature"
        severity = "high"
        message_en = "This Office document contains macros (programs that can run when the document is opened). Do not click 'Enable Content' in a document received through a meeting link."
        message_vi = "Tài liệu Office này chứa macro (chương trình có thể tự chạy khi mở tài liệu). Đừng bấm 'Bật nội dung' (Enable Content) trong tài liệu nhận được qua liên kết cuộc họp."
        reference = "https://learn.microsoft.com/en-us/microsoft-365-apps/security/internet-macros-blocked"

    strings:
        $vba_project = "_VBA_PROJECT" wide nocase

    condition:
        uint32(0) == 0xE011CFD0 and uint32(4) == 0xE11AB1A1   // D0 CF 11 E0 A1 B1 1A E1
        and $vba_project
}

rule Office_OOXML_VBA_Project
{
    meta:
        code = "signature"
        severity = "high"
        message_en = "This Office document contains macros (programs that can run when the document is opened). Do not click 'Enable Content' in a document received through a meeting link."
        message_vi = "Tài liệu Office này chứa macro (chương trình có thể tự chạy khi mở tài liệu). Đừng bấm 'Bật nội dung' (Enable Content) trong tài liệu nhận được qua liên kết cuộc họp."
        reference = "https://learn.microsoft.com/en-us/microsoft-365-apps/security/internet-macros-blocked"

    strings:
        $vba_project = "vbaProject.bin" ascii nocase

    condition:
        uint32(0) == 0x04034B50   // PK\3\4
        and $vba_project
}

rule Office_Macro_Enabled_File_Name
{
    meta:
        code = "dangerous-file-type"
        severity = "medium"
        message_en = "This is a macro-enabled Office file (.docm, .xlsm ...). Such files can run programs: open it only if you expected it, and do not enable macros."
        message_vi = "Đây là tệp Office cho phép chạy macro (.docm, .xlsm ...). Loại tệp này có thể chạy chương trình: chỉ mở khi bạn đang chờ tệp này và đừng bật macro."
        reference = "https://learn.microsoft.com/en-us/microsoft-365-apps/security/internet-macros-blocked"

    condition:
        extension matches /^(docm|dotm|xlsm|xltm|xlam|pptm|potm|ppsm|ppam|sldm)$/
}
