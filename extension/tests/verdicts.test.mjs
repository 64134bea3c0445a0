import test from 'node:test';
import assert from 'node:assert/strict';
import { canContinue, describeReasons, offlineVerdict, summarize, topReason, validateVerdict } from '../lib/verdicts.js';
import { serviceVerdict } from './fixtures.mjs';

test('a service verdict is validated and trimmed to what the extension uses', () => {
  const v = validateVerdict({ ...serviceVerdict('https://zoom.us/j/1'), class: 'warned', action: 'warn', click_through: true, extra: 'x' });
  assert.equal(v.class, 'warned');
  assert.equal(v.click_through, true);
  assert.equal(v.source, 'service');
  assert.ok(!('extra' in v));
});

test('click_through only counts for warn', () => {
  const v = validateVerdict({ ...serviceVerdict('https://x.test/'), action: 'block', click_through: true });
  assert.equal(v.click_through, false);
  assert.ok(!canContinue(v));
});

for (const [name, patch] of [
  ['bad class', { class: 'safe' }],
  ['bad action', { action: 'ignore' }],
  ['reasons not a list', { reasons: 'x' }],
  ['reason without severity', { reasons: [{ code: 'x' }] }],
  ['reason code odd', { reasons: [{ code: '<b>', severity: 'high' }] }],
]) {
  test(`verdict rejected: ${name}`, () => {
    assert.throws(() => validateVerdict({ ...serviceVerdict('https://x.test/'), ...patch }), TypeError);
  });
}

test('offline verdicts follow the fail mode and are never clean', () => {
  const open = offlineVerdict('https://x.test/a?pwd=1', 'open', 'p1');
  assert.equal(open.action, 'allow');
  assert.equal(open.reasons[0].code, 'unverifiable');
  assert.equal(open.target, 'https://x.test/a?pwd=***');
  const closed = offlineVerdict('https://x.test/', 'closed');
  assert.equal(closed.action, 'block');
  assert.equal(closed.click_through, false);
  assert.equal(offlineVerdict('::', 'open').host, '');
});

test('the badge summary shows the most severe reason', () => {
  const v = { ...serviceVerdict('https://zo0m-us.com/'), reasons: [
    { code: 'unknown-origin', severity: 'info', message: 'Unknown' },
    { code: 'impersonation', severity: 'high', message: 'Looks like Zoom' },
    { code: 'ip-host', severity: 'high', message: 'later' },
  ] };
  assert.equal(topReason(v.reasons).code, 'impersonation');
  assert.deepEqual(summarize(v), { class: 'unknown', action: 'allow', host: 'zo0m-us.com', display_host: 'zo0m-us.com', reason: 'Looks like Zoom', code: 'impersonation', ttl: 300 });
  assert.equal(topReason([]), null);
});

test('local reasons get messages in the user\'s language', () => {
  const v = offlineVerdict('https://x.test/', 'open');
  const t = (key) => `[${key}]`;
  assert.equal(describeReasons(v, t).reasons[0].message, '[reason_unverifiable]');
  const given = { ...v, reasons: [{ code: 'x', severity: 'low', message: 'kept' }] };
  assert.equal(describeReasons(given, t).reasons[0].message, 'kept');
});
