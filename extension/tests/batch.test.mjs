import test from 'node:test';
import assert from 'node:assert/strict';
import { createBatcher } from '../lib/batch.js';

function recorder(delay = 0) {
  const calls = [];
  const send = async (urls) => {
    calls.push(urls);
    if (delay) await new Promise((r) => setTimeout(r, delay));
    return urls.map((u) => `verdict:${u}`);
  };
  return { calls, send };
}

test('checks asked for within the window go out in one request, in order', async () => {
  const r = recorder();
  const b = createBatcher({ send: r.send, delayMs: 5 });
  const [x, y] = await Promise.all([b.check(['a', 'b']), b.check(['c', 'a'])]);
  assert.deepEqual(r.calls, [['a', 'b', 'c']]);
  assert.deepEqual(x, ['verdict:a', 'verdict:b']);
  assert.deepEqual(y, ['verdict:c', 'verdict:a']);
});

test('fifty links are one request; more than max are split', async () => {
  const r = recorder();
  const b = createBatcher({ send: r.send, max: 100, delayMs: 5 });
  const fifty = Array.from({ length: 50 }, (_, i) => `u${i}`);
  await b.check(fifty);
  assert.equal(r.calls.length, 1);
  assert.equal(r.calls[0].length, 50);
  const many = Array.from({ length: 250 }, (_, i) => `v${i}`);
  const out = await b.check(many);
  assert.deepEqual(r.calls.slice(1).map((c) => c.length), [100, 100, 50]);
  assert.equal(out[249], 'verdict:v249');
});

test('a URL in flight is not asked again', async () => {
  const r = recorder(20);
  const b = createBatcher({ send: r.send, delayMs: 1 });
  const first = b.check(['a']);
  await new Promise((res) => setTimeout(res, 5));
  assert.equal(b.pending(), 1);
  const second = b.check(['a', 'b']);
  await Promise.all([first, second]);
  assert.deepEqual(r.calls, [['a'], ['b']]);
  assert.equal(b.pending(), 0);
});

test('a failed request rejects every waiting check and forgets them', async () => {
  let fail = true;
  const b = createBatcher({ delayMs: 1, send: async (urls) => { if (fail) throw new Error('down'); return urls; } });
  await assert.rejects(Promise.all([b.check(['a']), b.check(['b'])]), /down/);
  fail = false;
  assert.deepEqual(await b.check(['a']), ['a']);
});

test('a wrong number of results is an error, not a misaligned answer', async () => {
  const b = createBatcher({ delayMs: 1, send: async () => ['only one'] });
  await assert.rejects(b.check(['a', 'b']), /expected 2 results/);
});
