import test from 'node:test';
import assert from 'node:assert/strict';
import { coveredByRules, dnrRules, localDecision, overrideRule, redactUrl, RULE_IDS, validatePolicy } from '../lib/policy.js';
import { POLICY_DOC } from './fixtures.mjs';

const policy = validatePolicy(POLICY_DOC);

test('validatePolicy normalises and freezes the snapshot', () => {
  const p = validatePolicy({ ...POLICY_DOC, known_bad_domains: ['EVIL.example.', 'not a domain', 7], override_ttl_seconds: -1 });
  assert.deepEqual(p.known_bad_domains, ['evil.example']);
  assert.equal(p.override_ttl_seconds, 900);
  assert.ok(Object.isFrozen(p) && Object.isFrozen(p.platforms[0]));
  assert.deepEqual(policy.platforms[2].schemes, ['zoommtg', 'zoomus']);
});

test('validatePolicy rejects documents it cannot use', () => {
  for (const bad of [null, {}, { version: 'x' }, { version: 'x', platforms: [{ id: 'a', class: 'bogus' }] }, { version: '', platforms: [] }]) {
    assert.throws(() => validatePolicy(bad), TypeError);
  }
});

const table = [
  // url, class, action, reason code (null: only the service can tell)
  ['https://emeeting.mic.gov.vn/room/1', 'approved', 'allow', 'approved-platform'],
  ['https://a.emeeting.mic.gov.vn/', 'approved', 'allow', 'approved-platform'],
  ['https://portal.moj.gov.vn/', 'approved', 'allow', 'approved-platform'],
  ['https://zoom.us/j/123?pwd=abc', 'warned', 'warn', 'warned-platform'],
  ['https://us02web.zoom.us/j/1', 'warned', 'warn', 'warned-platform'],
  ['zoommtg://zoom.us/join?confno=123', 'warned', 'warn', 'warned-platform'],
  ['msteams:/l/meetup-join/19%3a', 'warned', 'warn', 'warned-platform'],
  ['https://download.evil.example/x', 'unknown', 'block', 'known-bad'],
  ['http://emeeting.mic.gov.vn/', null],
  ['https://zoom.us@evil.example/', 'unknown', 'block', 'known-bad'],
  ['https://user@emeeting.mic.gov.vn/', null],
  ['https://zo0m-us.com/j/1', null],
  ['https://emeeting.mic.gov.vn.evil.example/', 'unknown', 'block', 'known-bad'],
  ['https://emeeting.mic.gov.vn.attacker.test/', null],
  ['https://bit.ly/abc', null],
  ['https://127.0.0.1/', null],
  ['https://[::1]/', null],
  ['mailto:someone@zoom.us', null],
  ['not a url', null],
];

for (const [url, cls, action, code] of table) {
  test(`local decision: ${url} → ${cls ?? 'ask the service'}`, () => {
    const v = localDecision(policy, url);
    if (cls === null) return assert.equal(v, null);
    assert.equal(v.class, cls);
    assert.equal(v.action, action);
    assert.equal(v.reasons[0].code, code);
    assert.equal(v.source, 'local');
    assert.equal(v.policy_version, 'p-2024-1');
  });
}

test('warned platforms block when policy allows no click-through', () => {
  const strict = validatePolicy({ ...POLICY_DOC, click_through: { warned: false, unknown: true } });
  const v = localDecision(strict, 'https://zoom.us/j/1');
  assert.equal(v.action, 'block');
  assert.equal(v.click_through, false);
  assert.equal(localDecision(policy, 'https://zoom.us/j/1').click_through, true);
});

test('no snapshot, no local decision', () => {
  assert.equal(localDecision(null, 'https://zoom.us/'), null);
});

test('meeting passwords are redacted from the target', () => {
  assert.equal(redactUrl(new URL('https://zoom.us/j/1?pwd=secret&x=1')), 'https://zoom.us/j/1?pwd=***&x=1');
  assert.equal(localDecision(policy, 'https://zoom.us/j/1?pwd=secret').target, 'https://zoom.us/j/1?pwd=***');
  assert.equal(localDecision(policy, 'https://zoom.us/j/1?pwd=secret').url, 'https://zoom.us/j/1?pwd=secret');
});

test('DNR rules redirect warned and known-bad domains and let approved ones through', () => {
  const page = 'chrome-extension://abc/pages/warning/warning.html';
  const rules = dnrRules(policy, page);
  const byId = Object.fromEntries(rules.map((r) => [r.id, r]));
  assert.deepEqual(byId[RULE_IDS.warned].condition.requestDomains, ['zoom.us', 'zoom.com', 'teams.microsoft.com', 'teams.live.com']);
  assert.equal(byId[RULE_IDS.warned].action.redirect.regexSubstitution, `${page}?via=rule#\\0`);
  assert.deepEqual(byId[RULE_IDS.warned].condition.resourceTypes, ['main_frame']);
  assert.equal(byId[RULE_IDS.approved].action.type, 'allow');
  assert.ok(byId[RULE_IDS.knownBad].priority > byId[RULE_IDS.approved].priority);
  assert.ok(byId[RULE_IDS.approved].priority > byId[RULE_IDS.warned].priority);
  const o = overrideRule(1001, 'Zoom.US');
  assert.ok(o.priority > byId[RULE_IDS.warned].priority && o.priority < byId[RULE_IDS.knownBad].priority);
  assert.deepEqual(o.condition.requestDomains, ['zoom.us']);
});

test('coveredByRules agrees with the rules', () => {
  assert.ok(coveredByRules(policy, 'us02web.zoom.us'));
  assert.ok(coveredByRules(policy, 'a.evil.example'));
  assert.ok(!coveredByRules(policy, 'emeeting.mic.gov.vn'));
  assert.ok(!coveredByRules(policy, 'zo0m-us.com'));
  assert.ok(!coveredByRules(null, 'zoom.us'));
});
