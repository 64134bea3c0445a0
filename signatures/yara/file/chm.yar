/*
 * Compiled HTML Help (.chm): "ITSF" version 3 header. Help files can run scripts and programs
 * when opened and are a long-standing lure format; their content is LZX-compressed, so the rule
 * only recognises the container.
 */

rule CHM_Compiled_Help_File
{
    meta:
        code = "dangerous-file-type"
        severity = "high"
        message_en = "This is a compiled Windows help file (.chm). Such files can run programs when opened and are used in attacks. Do not open it unless IT confirms it is safe."
        message_vi = "Đây là tệp trợ giúp đã biên dịch của Windows (.chm). Loại tệp này có thể chạy chương trình khi mở và thường bị dùng để tấn công. Đừng mở trừ khi bộ phận CNTT xác nhận là an toàn."
        reference = "https://attack.mitre.org/techniques/T1218/001/"

    condition:
        uint32(0) == 0x46535449   // "ITSF"
        and uint32(4) == 3
}
