/*
 * HTML smuggling: an HTML (or SVG) file whose script rebuilds a file from data it carries
 * (base64 through atob, or a byte array) into a Blob, and makes the browser save it - through an
 * object URL and a download link it clicks, or through the old msSaveOrOpenBlob. The payload is
 * created inside the browser, so proxies and mail filters never see it.
 *
 * A page with an ordinary download link, or one that exports its own table as CSV through a Blob
 * (no embedded data decoded), does not match.
 */

rule HTML_Smuggling_Blob_Download
{
    meta:
        code = "signature"
        severity = "high"
        message_en = "This web page file builds another file inside your browser and saves it automatically. Attackers use this to slip malware past security checks. Do not open the file it saves."
        message_vi = "Tệp trang web này tự tạo ra một tệp khác ngay trong trình duyệt và tự động lưu về máy. Kẻ tấn công dùng cách này để lén đưa mã độc qua các lớp kiểm tra an ninh. Đừng mở tệp được lưu về."
        reference = "https://attack.mitre.org/techniques/T1027/006/"

    strings:
        $script = "<script" ascii wide nocase
        // decoding embedded data
        $decode1 = "atob(" ascii wide
        $decode2 = "Uint8Array" ascii wide
        // building a file
        $blob1 = "new Blob" ascii wide
        $blob2 = "Blob([" ascii wide
        // saving it
        $url = "createObjectURL" ascii wide
        $ms1 = "msSaveOrOpenBlob" ascii wide
        $ms2 = "msSaveBlob" ascii wide
        $download1 = ".download" ascii wide
        $download2 = "download=" ascii wide nocase
        $download3 = "\"download\"" ascii wide
        $download4 = "'download'" ascii wide
        $click = ".click()" ascii wide

    condition:
        $script
        and any of ($decode*)
        and any of ($blob*)
        and (any of ($ms*) or ($url and any of ($download*, $click)))
}
