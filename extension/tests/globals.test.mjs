import test from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';

test('loading the pure modules puts nothing on globalThis', async () => {
  const before = new Set(Object.getOwnPropertyNames(globalThis));
  const dir = new URL('../lib/', import.meta.url);
  const modules = readdirSync(dir).filter((f) => f.endsWith('.js'));
  assert.ok(modules.length >= 10);
  for (const f of modules) await import(new URL(f, dir));
  const added = Object.getOwnPropertyNames(globalThis).filter((k) => !before.has(k));
  assert.deepEqual(added, []);
});
