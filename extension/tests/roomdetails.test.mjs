import test from 'node:test';
import assert from 'node:assert/strict';
import { addressesIn, choiceEvent, compileRoomDetails, describeFinding, findRoomDetails, guardSite, linkSecret, recipientsOutside, removeRoomSecrets } from '../lib/roomdetails.js';

// Shaped like `room_details` of GET /v1/policy (signatures/room_details.toml + platforms.toml).
export const ROOM_DETAILS = {
  labels: [
    { lang: 'en', meeting_id: ['Meeting ID', 'Webinar ID', 'Meeting number'], passcode: ['Passcode', 'Password', 'Meeting password'] },
    { lang: 'vi', meeting_id: ['ID cuộc họp', 'Mã cuộc họp'], passcode: ['Mật khẩu', 'Mật mã'] },
  ],
  max_gap: 400,
  min_id_digits: 6,
  platforms: [
    { id: 'zoom', domains: ['zoom.us', 'zoom.com'], secret_params: ['pwd', 'tk', 'zak', 'uname'] },
    { id: 'teams', domains: ['teams.microsoft.com', 'teams.live.com'], secret_params: ['p'] },
    { id: 'emeeting-mic', domains: ['emeeting.mic.gov.vn'], secret_params: ['passcode', 'password', 'pwd'] },
  ],
  wrappers: [
    { id: 'outlook-safelinks', hosts: ['safelinks.protection.outlook.com'], paths: [], params: ['url'] },
    { id: 'google-url', hosts: ['google.com'], paths: ['/url'], params: ['q', 'url'] },
  ],
  compose_hosts: ['mail.example.org'], enter_sends_hosts: [], public_hosts: [],
};
const c = compileRoomDetails(ROOM_DETAILS);
const safe = (u) => `https://nam12.safelinks.protection.outlook.com/?url=${encodeURIComponent(u)}&data=05%7C01&reserved=0`;

const links = [
  // text, platform (null: nothing found), clean link
  ['Join: https://us02web.zoom.us/j/85012345678?pwd=aBcD1234.1 today', 'zoom', 'https://us02web.zoom.us/j/85012345678'],
  ['https://zoom.us/j/850?pwd=x&from=addon#success.', 'zoom', 'https://zoom.us/j/850?from=addon#success'],
  ['https://zoom.us/w/99?tk=TOKEN&PWD=y', 'zoom', 'https://zoom.us/w/99'],
  ['https://teams.microsoft.com/meet/2919127330?p=AbCdEf', 'teams', 'https://teams.microsoft.com/meet/2919127330'],
  ['https://emeeting.mic.gov.vn/room/4711?passcode=9876', 'emeeting-mic', 'https://emeeting.mic.gov.vn/room/4711'],
  [safe('https://zoom.us/j/7778889999?pwd=SECRET1'), 'zoom', safe('https://zoom.us/j/7778889999')],
  ['https://www.google.com/url?q=https%3A%2F%2Fzoom.us%2Fj%2F1234567%3Fpwd%3DS2&sa=D', 'zoom', 'https://www.google.com/url?q=https%3A%2F%2Fzoom.us%2Fj%2F1234567&sa=D'],
  ['https://zoom.us/j/85012345678', null],
  ['https://zoom.us.evil.example/j/1?pwd=x', null],
  ['https://example.org/reset?pwd=x', null],
  ['https://evil.example/url?q=https%3A%2F%2Fzoom.us%2Fj%2F1%3Fpwd%3Dx', null],
  ['https://teams.microsoft.com/l/meetup-join/19%3ameeting_x?context=%7b%7d', null],
];

for (const [text, platform, clean] of links) {
  test(`link: ${text.slice(0, 70)} → ${platform ?? 'nothing'}`, () => {
    const found = findRoomDetails(text, c);
    if (platform === null) return assert.deepEqual(found, []);
    assert.equal(found.length, 1);
    assert.equal(found[0].kind, 'link');
    assert.equal(found[0].platform, platform);
    assert.equal(found[0].clean, clean);
    assert.equal(removeRoomSecrets(text, c), text.replace(found[0].url, clean));
  });
}

const ZOOM_INVITE = `Phuong Nguyen is inviting you to a scheduled Zoom meeting.

Join Zoom Meeting
https://us02web.zoom.us/j/85012345678?pwd=aBcD1234.1

Meeting ID: 850 1234 5678
Passcode: 123456
One tap mobile
+12532158782,,85012345678#,,,,*123456# US (Tacoma)
`;

const texts = [
  // text, expected pairs [lang, id, passcode]
  [ZOOM_INVITE, [['en', '850 1234 5678', '123456']]],
  ['Microsoft Teams meeting\nMeeting ID: 291 912 733 041\nPasscode: Xy7pQ2', [['en', '291 912 733 041', 'Xy7pQ2']]],
  ['Meeting number (access code): 2550 123 4567\nMeeting password: pa$$Word', [['en', '2550 123 4567', 'pa$$Word']]],
  ['Mời họp trực tuyến\nID cuộc họp: 850 1234 5678\nMật khẩu: 654321', [['vi', '850 1234 5678', '654321']]],
  ['MÃ CUỘC HỌP: 85012345678 - MẬT MÃ: abc123', [['vi', '85012345678', 'abc123']]],
  // Decomposed Vietnamese (NFD) as some keyboards type it.
  ['ID cuộc họp: 850 1234 5678\nMật khẩu: 654321'.normalize('NFD'), [['vi', '850 1234 5678', '654321']]],
  ['Meeting ID: 850 1234 5678 (no passcode needed)', []],
  ['Passcode: 123456 for the wifi', []],
  ['Your password: hunter2 and our room number 12', []],
  ['Meeting ID: 12345\nPasscode: 123456', []],
  [`Meeting ID: 850 1234 5678\n${'x'.repeat(500)}\nPasscode: 123456`, []],
  ['ConferenceMeeting ID: 850 1234 5678 Passcode: 1', []],
];

for (const [text, pairs] of texts) {
  test(`text: ${JSON.stringify(text.slice(0, 50))} → ${pairs.length} pair(s)`, () => {
    const found = findRoomDetails(text, c).filter((f) => f.kind === 'text');
    assert.deepEqual(found.map((f) => [f.lang, f.meetingId.value, f.passcode.value]), pairs);
  });
}

test('remove: the link loses its secret, the passcode line goes, one-tap loses the passcode', () => {
  const out = removeRoomSecrets(ZOOM_INVITE, c);
  assert.ok(out.includes('https://us02web.zoom.us/j/85012345678\n'));
  assert.ok(out.includes('Meeting ID: 850 1234 5678\nOne tap mobile'));
  assert.ok(out.includes('+12532158782,,85012345678# US (Tacoma)'));
  assert.ok(!/123456(?!7)|pwd|Passcode|aBcD/.test(out), out);
  assert.deepEqual(findRoomDetails(out, c), []);
});

test('remove: a passcode on the meeting ID line goes alone', () => {
  assert.equal(removeRoomSecrets('Meeting ID: 850 1234 5678   Passcode: 123456\nBye', c), 'Meeting ID: 850 1234 5678\nBye');
  assert.equal(removeRoomSecrets('ID cuộc họp: 850 1234 5678\r\nMật khẩu: 654321\r\nThân', c), 'ID cuộc họp: 850 1234 5678\r\nThân');
});

test('linkSecret unwraps nested wrappers and bounds the depth', () => {
  const twice = safe(safe('https://zoom.us/j/1?pwd=x'));
  assert.equal(linkSecret(twice, c).clean, safe(safe('https://zoom.us/j/1')));
  let deep = 'https://zoom.us/j/1?pwd=x';
  for (let i = 0; i < 8; i += 1) deep = safe(deep);
  assert.equal(linkSecret(deep, c), null);
  assert.equal(linkSecret('not a url', c), null);
  assert.equal(linkSecret('https://zoom.us/j/1?pwd=x', null), null);
});

test('describeFinding marks the secret pieces', () => {
  const [link, pair] = findRoomDetails(ZOOM_INVITE, c);
  const d = describeFinding(link);
  assert.equal(d.pieces.filter((p) => p.secret).map((p) => p.text).join(), 'aBcD1234.1');
  assert.equal(d.pieces.map((p) => p.text).join(''), link.url);
  assert.deepEqual(describeFinding(pair).pieces.filter((p) => p.secret), [{ text: '123456', secret: true }]);
});

test('recipients: domains outside the organisation; none known is outside', () => {
  const addresses = addressesIn(['An <an@MOJ.gov.vn>, binh@gmail.com', 'x@hcm.moj.gov.vn; not an address']);
  assert.deepEqual(addresses, ['an@moj.gov.vn', 'binh@gmail.com', 'x@hcm.moj.gov.vn']);
  assert.deepEqual(recipientsOutside(addresses, ['moj.gov.vn']), { outside: true, domains: ['gmail.com', 'hcm.moj.gov.vn', 'moj.gov.vn'] });
  assert.deepEqual(recipientsOutside(['a@moj.gov.vn'], ['moj.gov.vn']), { outside: false, domains: ['moj.gov.vn'] });
  assert.deepEqual(recipientsOutside(['a@notmoj.gov.vn'], ['moj.gov.vn']).outside, true);
  assert.deepEqual(recipientsOutside([], ['moj.gov.vn']), { outside: true, domains: [] });
});

test('no definitions, or broken ones: nothing found, nothing thrown', () => {
  assert.equal(compileRoomDetails(undefined), null);
  assert.equal(compileRoomDetails({ labels: 'x' }), null);
  assert.equal(compileRoomDetails({ labels: [7], platforms: 3 }), null);
  const partial = compileRoomDetails({ labels: [{ lang: 'en', meeting_id: [1, 'Meeting ID'], passcode: [null, 'Passcode'] }] });
  assert.equal(findRoomDetails('Meeting ID: 850 1234 5678 Passcode: 123456', partial).length, 1);
  assert.deepEqual(findRoomDetails(ZOOM_INVITE, null), []);
});

test('guardSite: webmail and listed hosts are compose hosts, chat hosts send on Enter, public hosts guard pastes', () => {
  const policy = { room_details: { ...ROOM_DETAILS, compose_hosts: ['chat.zalo.me', 'bad host'], enter_sends_hosts: ['chat.zalo.me'], public_hosts: ['www.facebook.com'] } };
  const config = { composeHosts: ['*.mail.example.net'], publicPostHosts: ['forum.example.org:8443'] };
  const site = (href, webmail = []) => guardSite(config, policy, webmail, new URL(href));
  assert.deepEqual(site('https://chat.zalo.me/'), { compose: true, enterSends: true, public: false });
  assert.deepEqual(site('https://mail.moj.gov.vn/', ['mail.moj.gov.vn']), { compose: true, enterSends: false, public: false });
  assert.deepEqual(site('https://a.mail.example.net/'), { compose: true, enterSends: false, public: false });
  assert.deepEqual(site('https://www.facebook.com/'), { compose: false, enterSends: false, public: true });
  assert.deepEqual(site('https://forum.example.org:8443/t/1'), { compose: false, enterSends: false, public: true });
  assert.deepEqual(site('https://news.example.com/'), { compose: false, enterSends: false, public: false });
  assert.deepEqual(guardSite(config, { room_details: null }, ['x.org'], new URL('https://x.org/')), { compose: false, enterSends: false, public: false });
});

test('choiceEvent: the outcome, the link without its secret or "text", domains only', () => {
  const findings = findRoomDetails(ZOOM_INVITE, c);
  assert.deepEqual(choiceEvent('send', findings, ['gmail.com', 'moj.gov.vn'], 'compose'), {
    type: 'room-details-shared', url: 'https://us02web.zoom.us/j/85012345678', context: 'compose',
    detail: { found: 'link', platform: 'zoom', links: 1, texts: 1, recipient_domains: 'gmail.com,moj.gov.vn' },
  });
  const text = findRoomDetails('Meeting ID: 850 1234 5678 Passcode: 123456', c);
  const event = choiceEvent('cancel', text, [], 'paste');
  assert.equal(event.type, 'room-details-cancelled');
  assert.equal(event.url, undefined);
  assert.equal(event.detail.found, 'text');
  assert.ok(!JSON.stringify(event).includes('123456'));
  assert.equal(choiceEvent('remove', findings, [], 'compose').type, 'room-details-removed');
});
