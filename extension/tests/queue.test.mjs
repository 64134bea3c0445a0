import test from 'node:test';
import assert from 'node:assert/strict';
import { createQueue, validateEvent } from '../lib/queue.js';

function memory() {
  let stored;
  return { load: async () => structuredClone(stored), save: async (s) => { stored = structuredClone(s); }, peek: () => stored };
}
const ev = (n) => ({ type: 'offline-decision', url: `https://x.test/${n}`, ts: 1700000000 + n });

test('events are kept in order and removed only after a successful send', async () => {
  const store = memory();
  const q = createQueue(store);
  await q.push(ev(1), ev(2));
  await q.push(ev(3));
  await assert.rejects(q.drain(async () => { throw new Error('offline'); }), /offline/);
  assert.equal(await q.size(), 3);
  const sent = [];
  assert.equal(await q.drain(async (batch) => { sent.push(...batch); }, 2), 2);
  assert.deepEqual(sent.map((e) => e.ts), [1700000001, 1700000002]);
  assert.equal(await q.size(), 1);
});

test('the queue is bounded: the oldest go and the loss is counted', async () => {
  const store = memory();
  const q = createQueue({ ...store, max: 3 });
  for (let i = 0; i < 5; i += 1) await q.push(ev(i));
  assert.deepEqual(store.peek().events.map((e) => e.ts % 10), [2, 3, 4]);
  let dropped;
  await q.drain(async (_, d) => { dropped = d; });
  assert.equal(dropped, 2);
  assert.equal(store.peek().dropped, 0);
});

test('concurrent pushes lose nothing', async () => {
  const q = createQueue(memory());
  await Promise.all(Array.from({ length: 20 }, (_, i) => q.push(ev(i))));
  assert.equal(await q.size(), 20);
});

test('events are validated', () => {
  assert.throws(() => validateEvent({ type: 'visit', ts: 1 }), TypeError);
  assert.throws(() => validateEvent({ type: 'override' }), TypeError);
  assert.equal(validateEvent(ev(1)).type, 'offline-decision');
});
