import test from 'node:test';
import assert from 'node:assert/strict';
import { TtlCache } from '../lib/cache.js';

function clock() {
  let t = 1_000_000;
  return { now: () => t, advance: (s) => { t += s * 1000; } };
}

test('entries live for their ttl and no longer', () => {
  const c = clock();
  const cache = new TtlCache({ now: c.now });
  cache.set('a', 1, 10);
  assert.equal(cache.get('a'), 1);
  c.advance(9.999);
  assert.equal(cache.get('a'), 1);
  c.advance(0.001);
  assert.equal(cache.get('a'), undefined);
});

test('a ttl of zero stores nothing and removes an older entry', () => {
  const cache = new TtlCache();
  cache.set('a', 1, 10);
  cache.set('a', 2, 0);
  assert.equal(cache.get('a'), undefined);
});

test('the oldest entries go first beyond max', () => {
  const cache = new TtlCache({ max: 2 });
  cache.set('a', 1, 10);
  cache.set('b', 2, 10);
  cache.set('a', 3, 10);
  cache.set('c', 4, 10);
  assert.equal(cache.get('b'), undefined);
  assert.equal(cache.get('a'), 3);
  assert.equal(cache.get('c'), 4);
});

test('dump and load keep live entries only', () => {
  const c = clock();
  const cache = new TtlCache({ now: c.now });
  cache.set('a', 1, 10);
  cache.set('b', 2, 100);
  const rows = cache.dump();
  c.advance(50);
  const restored = new TtlCache({ now: c.now });
  restored.load([...rows, ['bad'], 'junk']);
  assert.equal(restored.get('a'), undefined);
  assert.equal(restored.get('b'), 2);
  assert.equal(restored.expiresAt('b'), 1_000_000 + 100_000);
});
