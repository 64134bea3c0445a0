import test from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_WEBMAIL_HOSTS, effectiveConfig, failModeOf, validateSettings, webmailPatterns } from '../lib/config.js';
import { validatePolicy } from '../lib/policy.js';
import { POLICY_DOC } from './fixtures.mjs';

test('valid settings are normalised', () => {
  const { values, errors } = validateSettings({
    serverUrl: 'https://MeetGuard.example.org/', apiKey: 'k-123', webmailHosts: 'mail.example.org, *.Webmail.example.org\n10.0.0.5:8080',
    failMode: 'closed', userLabel: '  Nguyễn Văn A ', language: 'vi', unknownKey: 1,
  });
  assert.deepEqual(errors, {});
  assert.deepEqual(values, {
    serverUrl: 'https://meetguard.example.org', apiKey: 'k-123',
    webmailHosts: ['mail.example.org', '*.webmail.example.org', '10.0.0.5:8080'],
    failMode: 'closed', userLabel: 'Nguyễn Văn A', language: 'vi',
  });
});

const bad = [
  ['serverUrl', 'ftp://x.org'],
  ['serverUrl', 'https://user:pw@x.org'],
  ['serverUrl', 'https://x.org/?k=1'],
  ['serverUrl', 'not a url'],
  ['serverUrl', 42],
  ['apiKey', 'has space'],
  ['apiKey', 'x'.repeat(513)],
  ['apiKey', null],
  ['webmailHosts', ['mail.example.org', 'https://x.org']],
  ['webmailHosts', 'a.org/path'],
  ['webmailHosts', { 0: 'a.org' }],
  ['failMode', 'sometimes'],
  ['userLabel', 'a\u0000b'],
  ['userLabel', 'x'.repeat(129)],
  ['language', 'fr'],
];
for (const [key, value] of bad) {
  test(`invalid ${key}: ${JSON.stringify(value).slice(0, 40)}`, () => {
    const { values, errors } = validateSettings({ [key]: value });
    assert.ok(!(key in values));
    assert.match(errors[key], /must|not a host/);
  });
}

test('valid managed values win; invalid ones are reported and ignored', () => {
  const { config, managed, errors } = effectiveConfig(
    { serverUrl: 'https://it.example.org', failMode: 'never', apiKey: 'managed-key' },
    { serverUrl: 'https://mine.example.org', apiKey: 'my-key', failMode: 'closed', language: 'en' },
  );
  assert.equal(config.serverUrl, 'https://it.example.org');
  assert.equal(config.apiKey, 'managed-key');
  assert.equal(config.failMode, 'closed');
  assert.equal(config.language, 'en');
  assert.deepEqual(managed.sort(), ['apiKey', 'serverUrl']);
  assert.deepEqual(Object.keys(errors), ['failMode']);
  assert.equal(effectiveConfig(undefined, undefined).config.failMode, 'open');
});

test('webmail hosts: configured plus the policy\'s, else the defaults', () => {
  const policy = validatePolicy(POLICY_DOC);
  const cfg = effectiveConfig({ webmailHosts: ['mail.example.org'] }, {}).config;
  assert.deepEqual(webmailPatterns(cfg, policy), ['mail.example.org', 'mail.moj.gov.vn']);
  assert.deepEqual(webmailPatterns(effectiveConfig({}, {}).config, null), [...DEFAULT_WEBMAIL_HOSTS]);
});

test('fail mode: IT policy, else the service policy, else the option', () => {
  const policy = validatePolicy({ ...POLICY_DOC, fail_mode: 'closed' });
  assert.equal(failModeOf({ failMode: 'open' }, ['failMode'], policy), 'open');
  assert.equal(failModeOf({ failMode: 'open' }, [], policy), 'closed');
  assert.equal(failModeOf({ failMode: 'closed' }, [], null), 'closed');
});
