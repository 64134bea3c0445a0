/*
  URL rules: run over the normalised destination (after unwrapping redirectors).
  Externals: url, host, domain (registered domain), scheme, path, query.
  meta: code (signature | known-bad | impersonation | deceptive-url), severity
  (info | low | medium | high | critical), message_en, message_vi.
*/

// The vendors' own download hosts: an installer of their app from anywhere else is a lure.
rule fake_meeting_app_installer
{
    meta:
        code = "signature"
        severity = "critical"
        message_en = "The link downloads a meeting-app installer from a site that is not the app maker's: a common way to spread malware."
        message_vi = "Liên kết tải trình cài đặt ứng dụng họp từ một trang không phải của nhà sản xuất: cách phát tán mã độc thường gặp."
        reference = "https://attack.mitre.org/techniques/T1204/002/"
    strings:
        $zoom = "zoom" nocase
        $teams = "teams" nocase
        $webex = "webex" nocase
        $skype = "skype" nocase
        $goto = "gotomeeting" nocase
        $trueconf = "trueconf" nocase
        $emeeting = "emeeting" nocase
        $vmeet = "vmeet" nocase
        $installer = /[\/._-](setup|install|installer|client|launcher|update)?[^\/?#]{0,40}\.(exe|msi|msix|dmg|pkg|scr|bat|cmd|ps1|vbs|js|hta|lnk|iso|img|apk)([?#]|$)/ nocase
    condition:
        any of ($zoom, $teams, $webex, $skype, $goto, $trueconf, $emeeting, $vmeet) and $installer
        and not domain matches /^(zoom\.us|zoom\.com|zoomgov\.com|microsoft\.com|live\.com|office\.com|office\.net|skype\.com|webex\.com|goto\.com|gotomeeting\.com|logmein\.com|trueconf\.com|trueconf\.ru|mic\.gov\.vn)$/
}

// Sign-in pages for a meeting platform served from some other domain (credential phishing).
rule meeting_signin_lure
{
    meta:
        code = "signature"
        severity = "high"
        message_en = "The link looks like a sign-in page for a meeting service, on a site that does not belong to it: a password-phishing page."
        message_vi = "Liên kết trông như trang đăng nhập của dịch vụ họp nhưng nằm trên trang không thuộc dịch vụ đó: trang lừa lấy mật khẩu."
    strings:
        $brand1 = "zoom" nocase
        $brand2 = "teams" nocase
        $brand3 = "webex" nocase
        $brand4 = "office365" nocase
        $brand5 = "outlook" nocase
        $brand6 = "emeeting" nocase
        $brand7 = "vmeet" nocase
        $lure1 = "signin" nocase
        $lure2 = "sign-in" nocase
        $lure3 = "login" nocase
        $lure4 = "logon" nocase
        $lure5 = "verify" nocase
        $lure6 = "password" nocase
        $lure7 = "credential" nocase
    condition:
        any of ($brand*) and any of ($lure*)
        and not domain matches /^(zoom\.us|zoom\.com|zoomgov\.com|microsoft\.com|microsoftonline\.com|live\.com|office\.com|office365\.com|outlook\.com|webex\.com|mic\.gov\.vn)$/
}

// Free hosting and tunnels are where throw-away meeting phishing pages live.
rule meeting_lure_on_throwaway_hosting
{
    meta:
        code = "signature"
        severity = "high"
        message_en = "A meeting page on free web hosting or a tunnel service: real meeting services never invite you there."
        message_vi = "Trang họp trực tuyến đặt trên dịch vụ lưu trữ miễn phí hoặc đường hầm: dịch vụ họp thật không bao giờ mời bạn vào đó."
    strings:
        $m1 = "zoom" nocase
        $m2 = "teams" nocase
        $m3 = "meeting" nocase
        $m4 = "webinar" nocase
        $m5 = "webex" nocase
        $m6 = "hop-truc-tuyen" nocase
        $m7 = "cuochop" nocase
    condition:
        any of them and host matches /(^|\.)(firebaseapp\.com|web\.app|glitch\.me|pages\.dev|workers\.dev|ngrok\.io|ngrok-free\.app|ngrok\.app|r2\.dev|trycloudflare\.com|000webhostapp\.com|weebly\.com|wixsite\.com|netlify\.app|vercel\.app|github\.io|blogspot\.com|sites\.google\.com|ipfs\.io|dweb\.link|loca\.lt|serveo\.net)$/
}

// IPFS gateways serve whatever anyone uploads, forever; phishing kits favour them.
rule ipfs_gateway_content
{
    meta:
        code = "signature"
        severity = "medium"
        message_en = "The page is served from IPFS, where anyone can publish anonymously; phishing pages often hide there."
        message_vi = "Trang được phục vụ từ IPFS, nơi ai cũng có thể đăng ẩn danh; trang lừa đảo thường ẩn ở đó."
    condition:
        path matches /^\/ipfs\/[a-zA-Z0-9]{20,}/ or host matches /\.ipfs\./
}
