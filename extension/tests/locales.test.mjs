import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const load = (lang) => JSON.parse(readFileSync(join(root, '_locales', lang, 'messages.json'), 'utf8'));
const en = load('en');
const vi = load('vi');

function sources(dir = root) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (['node_modules', 'tests', '_locales'].includes(name)) return [];
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(js|html|json)$/.test(name) ? [[path, readFileSync(path, 'utf8')]] : [];
  });
}

test('both languages have exactly the same messages and placeholders', () => {
  assert.deepEqual(Object.keys(vi).sort(), Object.keys(en).sort());
  for (const key of Object.keys(en)) {
    assert.deepEqual(Object.keys(vi[key].placeholders ?? {}).sort(), Object.keys(en[key].placeholders ?? {}).sort(), key);
    for (const name of Object.keys(en[key].placeholders ?? {})) {
      assert.ok(vi[key].message.toLowerCase().includes(`$${name}$`), `${key} uses $${name}$ in vi`);
    }
  }
});

test('Vietnamese is written with its diacritics', () => {
  const all = Object.values(vi).map((m) => m.message).join(' ');
  for (const word of ['Quay lại', 'Vẫn tiếp tục', 'Không rõ nguồn gốc', 'mật khẩu']) assert.ok(all.includes(word), word);
  const translated = Object.keys(en).filter((k) => en[k].message !== vi[k].message);
  assert.ok(translated.length > Object.keys(en).length * 0.9, 'nearly every message differs from English');
});

test('every message key the code and pages use exists', () => {
  const used = new Set();
  for (const [, text] of sources()) {
    for (const m of text.matchAll(/data-i18n(?:-title)?="([a-zA-Z0-9_]+)"/g)) used.add(m[1]);
    for (const m of text.matchAll(/__MSG_([a-zA-Z0-9_]+)__/g)) used.add(m[1]);
    for (const m of text.matchAll(/\bt\('([a-z0-9_]+)'/g)) used.add(m[1]);
  }
  assert.ok(used.size > 40);
  const missing = [...used].filter((k) => !(k in en));
  assert.deepEqual(missing, []);
});

test('every reason code a local or offline verdict can carry has a message', () => {
  for (const code of ['approved-platform', 'warned-platform', 'known-bad', 'unverifiable']) {
    assert.ok(`reason_${code.replace(/-/g, '_')}` in en, code);
  }
});
