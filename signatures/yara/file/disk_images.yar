/*
 * Disk images: containers used to carry programs past Mark-of-the-Web (files inside an ISO, IMG
 * or VHD that Windows mounts do not inherit the "downloaded from the Internet" mark).
 *
 * Recognised by content, whatever the name: ISO 9660 ("CD001" in a volume descriptor at sector
 * 16, 17 or 18, i.e. 0x8001, 0x8801, 0x9001), UDF (NSR02/NSR03 in the volume recognition
 * sequence from sector 16), VHDX ("vhdxfile" at 0), VHD ("conectix" footer at the end, or its
 * copy at 0), and raw FAT volume images (.img). Image contents are stored uncompressed, so
 * programs and shortcuts inside can be seen directly.
 */

rule Disk_Image_File
{
    meta:
        code = "dangerous-file-type"
        severity = "medium"
        message_en = "This is a disk image file (ISO, IMG or VHD). Attackers hide programs in disk images to avoid Windows security warnings. Open it only if you expected it from a trusted source."
        message_vi = "Đây là tệp ảnh đĩa (ISO, IMG hoặc VHD). Kẻ tấn công thường giấu chương trình trong ảnh đĩa để tránh cảnh báo an ninh của Windows. Chỉ mở khi bạn đang chờ tệp này từ nguồn tin cậy."
        reference = "https://attack.mitre.org/techniques/T1553/005/"

    condition:
        // ISO 9660: "CD001" (43 44 30 30 31)
        for any offset in (0x8001, 0x8801, 0x9001) : (
            uint32(offset) == 0x30304443 and uint8(offset + 4) == 0x31
        )
        // UDF: "NSR02" / "NSR03" in one of the first sectors of the recognition sequence
        or for any i in (0..7) : (
            uint32(0x8001 + i * 0x800) == 0x3052534E
            and (uint8(0x8005 + i * 0x800) == 0x32 or uint8(0x8005 + i * 0x800) == 0x33)
        )
        // VHDX: "vhdxfile"
        or (uint32(0) == 0x78646876 and uint32(4) == 0x656C6966)
        // VHD: "conectix" footer (fixed disks) or its copy at the start (dynamic disks)
        or (uint32be(0) == 0x636F6E65 and uint32be(4) == 0x63746978)
        or (filesize >= 512
            and uint32be(filesize - 512) == 0x636F6E65 and uint32be(filesize - 508) == 0x63746978)
        // FAT volume image: jump, boot signature, "FAT1x" or "FAT32" file system type
        or ((uint8(0) == 0xEB or uint8(0) == 0xE9) and uint16(510) == 0xAA55
            and (uint32(0x36) == 0x31544146 or uint32(0x52) == 0x33544146))
}

rule Disk_Image_Contains_Program
{
    meta:
        code = "signature"
        severity = "high"
        message_en = "This disk image contains a program or script. Programs hidden in disk images are a common way to spread malware. Do not open it."
        message_vi = "Ảnh đĩa này chứa chương trình hoặc mã lệnh. Giấu chương trình trong ảnh đĩa là cách phổ biến để phát tán mã độc. Đừng mở tệp này."
        reference = "https://attack.mitre.org/techniques/T1553/005/"

    strings:
        // a Windows program inside (the DOS stub every linker writes)
        $stub1 = "This program cannot be run in DOS mode" ascii
        $stub2 = "This program must be run under Win32" ascii
        // scripts inside
        $hta = "<hta:application" ascii wide nocase
        $wsh = "WScript.Shell" ascii wide nocase
        // ISO 9660 file identifiers ("NAME.EXT;1")
        $iso1 = ".exe;1" ascii nocase
        $iso2 = ".scr;1" ascii nocase
        $iso3 = ".dll;1" ascii nocase
        $iso4 = ".cpl;1" ascii nocase
        $iso5 = ".msi;1" ascii nocase
        $iso6 = ".bat;1" ascii nocase
        $iso7 = ".cmd;1" ascii nocase
        $iso8 = ".js;1" ascii nocase
        $iso9 = ".jse;1" ascii nocase
        $iso10 = ".vbs;1" ascii nocase
        $iso11 = ".vbe;1" ascii nocase
        $iso12 = ".wsf;1" ascii nocase
        $iso13 = ".hta;1" ascii nocase
        $iso14 = ".ps1;1" ascii nocase

    condition:
        Disk_Image_File and any of them
}

rule Disk_Image_Contains_Shortcut
{
    meta:
        code = "signature"
        severity = "critical"
        message_en = "This disk image contains a Windows shortcut. Shortcuts hidden in disk images are a known way to install malware. Do not open it."
        message_vi = "Ảnh đĩa này chứa tệp lối tắt (shortcut) của Windows. Giấu lối tắt trong ảnh đĩa là cách đã biết để cài mã độc. Đừng mở tệp này."
        reference = "https://attack.mitre.org/techniques/T1553/005/"

    strings:
        // ShellLinkHeader: HeaderSize 0x4C + LinkCLSID
        $lnk = { 4C 00 00 00 01 14 02 00 00 00 00 00 C0 00 00 00 00 00 00 46 }
        $iso = ".lnk;1" ascii nocase

    condition:
        Disk_Image_File and any of them
}
