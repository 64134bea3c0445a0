import test from 'node:test';
import assert from 'node:assert/strict';
import { isCleartext } from '../lib/transport.js';

test('plain http to another machine is cleartext; https and loopback are not', () => {
  const table = [
    ['http://meetguard.example.org', true],
    ['http://10.0.0.5:8080', true],
    ['http://[2001:db8::1]:8080', true],
    ['http://127.evil.example', true],
    ['http://localhost.example.org', true],
    ['http://127.0.0.1:8080', false],
    ['http://127.1.2.3', false],
    ['http://0x7f.1:8080', false],
    ['http://2130706433', false],
    ['http://localhost:8080', false],
    ['http://meetguard.localhost', false],
    ['http://[::1]:8080', false],
    ['https://meetguard.example.org', false],
    ['', false],
    ['not a url', false],
  ];
  for (const [url, expected] of table) assert.equal(isCleartext(url), expected, url);
});
