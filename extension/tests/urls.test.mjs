import test from 'node:test';
import assert from 'node:assert/strict';
import {
  hostMatches, hostPatternMatches, isHostPattern, isWebmail, linkKind, matchDomain, normalizeHost, parseUrl, sameDocument,
} from '../lib/urls.js';

test('hosts are read the way the browser reads them', () => {
  const cases = [
    ['https://zoom.us@evil.example/j/1', 'evil.example'],
    ['https://evil.example\\@zoom.us/', 'evil.example'],
    ['https://ZOOM.US./j/1', 'zoom.us.'],
    ['https://%7A%6F%6F%6D.us/', 'zoom.us'],
    ['http://0x7f.1/', '127.0.0.1'],
    ['https://ｚｏｏｍ.us/', 'zoom.us'],
    ['https://z\u043eom.us/', 'xn--zom-sed.us'],
    ['https://zoom.us\t.evil.example/', 'zoom.us.evil.example'],
  ];
  for (const [input, host] of cases) assert.equal(parseUrl(input).hostname, host, input);
});

test('parseUrl returns null for what is not a URL', () => {
  for (const bad of ['', 'not a url', 'http://', '//x', null, 42]) assert.equal(parseUrl(bad), null, String(bad));
  assert.equal(parseUrl('/j/1', 'https://zoom.us/x').href, 'https://zoom.us/j/1');
});

test('normalizeHost lower-cases and drops the trailing dot and IPv6 brackets', () => {
  assert.equal(normalizeHost('ZOOM.US.'), 'zoom.us');
  assert.equal(normalizeHost('[::1]'), '::1');
});

test('a host matches a domain when equal or a subdomain, never by suffix alone', () => {
  assert.ok(hostMatches('zoom.us', 'zoom.us'));
  assert.ok(hostMatches('us02web.zoom.us', 'zoom.us'));
  assert.ok(hostMatches('ZOOM.US.', 'zoom.us'));
  assert.ok(!hostMatches('notzoom.us', 'zoom.us'));
  assert.ok(!hostMatches('zoom.us.evil.example', 'zoom.us'));
  assert.ok(!hostMatches('zoom.us', ''));
});

test('matchDomain picks the most specific domain', () => {
  assert.equal(matchDomain('a.mic.gov.vn', ['gov.vn', 'mic.gov.vn']), 'mic.gov.vn');
  assert.equal(matchDomain('example.org', ['gov.vn']), null);
});

test('linkKind: web links, meeting-app deep links, and everything else', () => {
  assert.equal(linkKind(new URL('https://zoom.us/')), 'web');
  assert.equal(linkKind(new URL('zoommtg://zoom.us/join?confno=1')), 'app');
  assert.equal(linkKind(new URL('msteams:/l/meetup-join/x')), 'app');
  assert.equal(linkKind(new URL('mailto:a@b.c')), null);
  assert.equal(linkKind(new URL('javascript:alert(1)')), null);
  assert.equal(linkKind(new URL('custom:x'), ['custom']), 'app');
});

test('sameDocument ignores only the fragment', () => {
  assert.ok(sameDocument(new URL('https://a.b/x#1'), new URL('https://a.b/x#2')));
  assert.ok(!sameDocument(new URL('https://a.b/x'), new URL('https://a.b/y')));
});

test('webmail host patterns: host, host:port, *.domain', () => {
  const u = (s) => new URL(s);
  assert.ok(hostPatternMatches('mail.example.org', u('https://mail.example.org/inbox')));
  assert.ok(hostPatternMatches('mail.example.org', u('http://mail.example.org:8080/')));
  assert.ok(hostPatternMatches('mail.example.org:8080', u('http://mail.example.org:8080/')));
  assert.ok(!hostPatternMatches('mail.example.org:8080', u('http://mail.example.org:8081/')));
  assert.ok(hostPatternMatches('mail.example.org:443', u('https://mail.example.org/')));
  assert.ok(hostPatternMatches('*.example.org', u('https://webmail.example.org/')));
  assert.ok(!hostPatternMatches('*.example.org', u('https://example.org/')));
  assert.ok(!hostPatternMatches('mail.example.org', u('https://mail.example.org.evil.example/')));
  assert.ok(!hostPatternMatches('mail.example.org', u('file:///mail.example.org')));
  assert.ok(isWebmail(['x.org', 'mail.example.org'], u('https://mail.example.org/')));
});

test('isHostPattern accepts hosts with optional port and *. prefix only', () => {
  for (const ok of ['mail.example.org', '127.0.0.1:8080', '*.example.org', 'localhost']) assert.ok(isHostPattern(ok), ok);
  for (const bad of ['', 'https://mail.example.org', 'mail.example.org/x', 'a b', '*.', 'x:0', 'x:70000', 'ma*il.org', 42]) {
    assert.ok(!isHostPattern(bad), String(bad));
  }
});
