/*
 * EICAR anti-malware test file.
 *
 * The standard 68-byte string. The EICAR specification lets the file be followed by white space
 * up to 128 bytes in total; we accept the string anywhere in the first 128 bytes (it starts at
 * offset 0..60), and nowhere else, so a document that merely quotes it deeper inside is not hit.
 * The backslash is escaped below, so this rule file does not itself contain the test string.
 */

rule EICAR_Test_File
{
    meta:
        code = "known-bad"
        severity = "critical"
        message_en = "This is the EICAR anti-virus test file. It is harmless and only used to check that protection works, so it is blocked like real malware."
        message_vi = "Đây là tệp thử nghiệm chống vi-rút EICAR. Tệp này vô hại, chỉ dùng để kiểm tra hệ thống bảo vệ, nên bị chặn như mã độc thật."
        reference = "https://www.eicar.org/download-anti-malware-testfile/"

    strings:
        $eicar = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"

    condition:
        $eicar in (0..60)
}
