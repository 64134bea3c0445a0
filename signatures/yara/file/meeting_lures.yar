/*
 * Fake meeting app installers: a Windows program whose name claims to be Zoom, Teams, Webex,
 * Skype, GoToMeeting, BlueJeans, Google Meet, Vmeet or eMeeting, but that carries no Authenticode
 * signature. The real installers are all signed by their makers; an unsigned one named like them
 * is what meeting-lure sites hand out ("ZoomInstaller.exe", "zoom_installer.exe").
 *
 * Limits: a signature is only counted, not checked against the maker's certificate or a trusted
 * root (YARA has no trust store), so a fake signed with any certificate is not caught here.
 */

import "pe"

rule Fake_Meeting_App_Installer_Unsigned
{
    meta:
        code = "signature"
        severity = "high"
        message_en = "This file claims to be a meeting app installer (Zoom, Teams ...) but it is not signed by the maker. Install meeting apps only from the official website or from IT."
        message_vi = "Tệp này tự nhận là bộ cài đặt ứng dụng họp trực tuyến (Zoom, Teams ...) nhưng không có chữ ký số của nhà sản xuất. Chỉ cài ứng dụng họp từ trang web chính thức hoặc do bộ phận CNTT cung cấp."
        reference = "https://attack.mitre.org/techniques/T1036/005/"

    condition:
        uint16(0) == 0x5A4D
        and filename matches /(^|[^a-z])(zoom|(ms|microsoft)?teams|skype|gotomeeting|bluejeans|google[ _.-]?meet|vmeet|e-?meeting)|webex/i
        and pe.is_pe
        and pe.number_of_signatures == 0
}
