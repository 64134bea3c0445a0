import test from 'node:test';
import assert from 'node:assert/strict';
import { createDecider, urlKey } from '../lib/decide.js';
import { TtlCache } from '../lib/cache.js';
import { ServiceError } from '../lib/api.js';
import { validatePolicy } from '../lib/policy.js';
import { POLICY_DOC, serviceVerdict } from './fixtures.mjs';

function setup({ failMode = 'open', policy = validatePolicy(POLICY_DOC), answer } = {}) {
  let t = 1_000_000;
  const now = () => t;
  const calls = [];
  const offline = [];
  let down = null;
  const remote = async (urls, context) => {
    calls.push({ urls, context });
    if (down) throw down;
    return urls.map((u) => (answer ? answer(u) : serviceVerdict(u)));
  };
  const d = createDecider({
    policy: () => policy, failMode: () => failMode, now, remote,
    cache: new TtlCache({ now }), overrides: new TtlCache({ now }),
    onOffline: (v, context) => offline.push([v.url, v.action, context]),
  });
  return { d, calls, offline, advance: (s) => { t += s * 1000; }, setDown: (e) => { down = e; } };
}

test('known destinations are decided without the service', async () => {
  const { d, calls } = setup();
  const [a, w, b] = await d.decide(['https://emeeting.mic.gov.vn/r/1', 'https://zoom.us/j/1', 'https://x.evil.example/'], 'click');
  assert.deepEqual([a.action, w.action, b.action], ['allow', 'warn', 'block']);
  assert.equal(calls.length, 0);
  assert.equal(d.peek('https://zoom.us/j/1').class, 'warned');
});

test('unknown destinations are asked once, in one request, then cached for their ttl', async () => {
  const { d, calls, advance } = setup();
  const urls = ['https://a.test/', 'https://b.test/', 'https://a.test/', 'https://emeeting.mic.gov.vn/'];
  const out = await d.decide(urls, 'hover');
  assert.deepEqual(calls, [{ urls: ['https://a.test/', 'https://b.test/'], context: 'hover' }]);
  assert.equal(out[2].host, 'a.test');
  assert.equal(d.peek('https://a.test/').id, '01JTEST');
  await d.decide(['https://a.test/'], 'click');
  assert.equal(calls.length, 1);
  advance(301);
  assert.equal(d.peek('https://a.test/'), undefined);
  await d.decide(['https://a.test/'], 'click');
  assert.equal(calls.length, 2);
});

test('equivalent spellings share one cache entry', () => {
  assert.equal(urlKey('HTTPS://A.test'), 'https://a.test/');
  assert.equal(urlKey('::'), '::');
});

test('the warning page gets the service\'s verdict even for known destinations', async () => {
  const { d, calls } = setup({ answer: (u) => serviceVerdict(u, { class: 'warned', action: 'warn', click_through: true, id: '01JSERVICE' }) });
  const [v] = await d.decide(['https://zoom.us/j/1'], 'click', { preferService: true });
  assert.equal(v.id, '01JSERVICE');
  assert.equal(calls.length, 1);
});

test('service down: snapshot for known domains, fail mode for the rest, all reported', async () => {
  for (const [mode, action] of [['open', 'allow'], ['closed', 'block']]) {
    const { d, calls, offline, setDown } = setup({ failMode: mode });
    setDown(new ServiceError('offline', 'refused'));
    const out = await d.decide(['https://unknown.test/', 'https://zoom.us/j/1'], 'click', { preferService: true });
    assert.equal(out[0].action, action);
    assert.equal(out[0].reasons[0].code, 'unverifiable');
    assert.equal(out[1].class, 'warned');
    assert.equal(out[1].source, 'local');
    assert.deepEqual(offline.map((o) => o[1]), [action, 'warn']);
    assert.equal(d.status().state, 'offline');
    await d.decide(['https://other.test/'], 'click');
    assert.equal(calls.length, 1, 'backed off: no second attempt right away');
  }
});

test('after the back-off the service is tried again and offline verdicts are not cached', async () => {
  const { d, calls, setDown, advance } = setup();
  setDown(new ServiceError('offline', 'refused'));
  await d.decide(['https://u.test/'], 'click');
  setDown(null);
  advance(6);
  const [v] = await d.decide(['https://u.test/'], 'click');
  assert.equal(v.source, undefined);
  assert.equal(v.id, '01JTEST');
  assert.equal(calls.length, 2);
  assert.equal(d.status().state, 'connected');
});

test('rate limiting waits as long as the service asks', async () => {
  const { d, calls, setDown, advance } = setup();
  setDown(new ServiceError('rate', '429', { retryAfter: 30 }));
  await d.decide(['https://u.test/'], 'click');
  setDown(null);
  advance(20);
  await d.decide(['https://u.test/'], 'click');
  assert.equal(calls.length, 1);
  advance(11);
  await d.decide(['https://u.test/'], 'click');
  assert.equal(calls.length, 2);
});

test('Continue anyway is remembered for the URL and its real host, for the ttl only', async () => {
  const { d, advance } = setup();
  const [w] = await d.decide(['https://zoom.us/j/1'], 'click');
  d.override('https://zoom.us/j/1', w, 900);
  assert.equal(d.peek('https://zoom.us/j/1').action, 'allow');
  assert.equal(d.peek('https://zoom.us/j/1').overridden, true);
  assert.equal((await d.decide(['https://us.zoom.us/other'], 'click'))[0].action, 'warn', 'other host of the platform');
  assert.equal((await d.decide(['https://zoom.us/j/2'], 'click'))[0].action, 'allow', 'same host');
  advance(901);
  assert.equal(d.peek('https://zoom.us/j/1').action, 'warn');
});

test('a blocked destination cannot be overridden', async () => {
  const { d } = setup();
  const [b] = await d.decide(['https://evil.example/'], 'click');
  d.override('https://evil.example/', b, 900);
  assert.equal(d.peek('https://evil.example/').action, 'block');
});
