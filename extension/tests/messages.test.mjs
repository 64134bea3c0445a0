import test from 'node:test';
import assert from 'node:assert/strict';
import { createRouter, trustOf, validateMessage } from '../lib/messages.js';

const self = { id: 'fjohchajgcodhajcjibppmjpnaahofda', origin: 'chrome-extension://fjohchajgcodhajcjibppmjpnaahofda' };
const contentSender = { id: self.id, url: 'https://mail.example.org/inbox', tab: { id: 7 }, frameId: 0 };
const pageSender = { id: self.id, url: `${self.origin}/pages/warning/warning.html#https://zoom.us/`, tab: { id: 7 } };

test('trust comes from the sender the browser reports', () => {
  assert.equal(trustOf(contentSender, self), 'content');
  assert.equal(trustOf(pageSender, self), 'page');
  assert.equal(trustOf({ ...pageSender, tab: undefined }, self), 'page');
  assert.equal(trustOf({ ...contentSender, id: 'other-extension' }, self), null);
  assert.equal(trustOf({ ...contentSender, tab: undefined }, self), null);
  assert.equal(trustOf({ id: self.id, url: `${self.origin}.evil.example/x`, tab: { id: 1 } }, self), 'content');
  assert.equal(trustOf(undefined, self), null);
});

test('content scripts may only send content messages', () => {
  assert.equal(validateMessage({ type: 'continue', url: 'https://zoom.us/' }, 'content').ok, false);
  assert.equal(validateMessage({ type: 'save-settings', settings: {} }, 'content').ok, false);
  assert.equal(validateMessage({ type: 'check-links', urls: ['https://zoom.us/'] }, 'content').ok, true);
  assert.equal(validateMessage({ type: 'continue', url: 'https://zoom.us/' }, 'page').ok, true);
  assert.equal(validateMessage({ type: 'init' }, null).ok, false);
});

const invalid = [
  ['not an object', 'x'],
  ['array', []],
  ['no type', { urls: ['a'] }],
  ['prototype key as type', { type: 'constructor' }],
  ['extra field', { type: 'init', tabId: 3 }],
  ['empty batch', { type: 'check-links', urls: [] }],
  ['batch over 100', { type: 'check-links', urls: Array(101).fill('https://a.b/') }],
  ['url not a string', { type: 'check-links', urls: [{}] }],
  ['url too long', { type: 'check-links', urls: [`https://a.b/${'x'.repeat(9000)}`] }],
  ['click without newTab', { type: 'click', url: 'https://a.b/', frameTarget: false }],
  ['click newTab not boolean', { type: 'click', url: 'https://a.b/', newTab: 'yes', frameTarget: false }],
];
for (const [name, msg] of invalid) {
  test(`content message rejected: ${name}`, () => assert.equal(validateMessage(msg, 'content').ok, false));
}

test('optional fields may be left out but must be valid when present', () => {
  assert.equal(validateMessage({ type: 'status' }, 'page').ok, true);
  assert.equal(validateMessage({ type: 'status', tabId: 4 }, 'page').ok, true);
  assert.equal(validateMessage({ type: 'status', tabId: -1 }, 'page').ok, false);
  assert.equal(validateMessage({ type: 'file-verdict', token: '../../x' }, 'page').ok, false);
});

test('the router dispatches by trust and type and reports errors as replies', async () => {
  const seen = [];
  const route = createRouter({
    content: { init: (v, s) => { seen.push(['content', s.tab.id]); return 'hello'; } },
    page: { continue: async ({ url }) => { throw new Error(`no ${url}`); } },
  }, () => self);
  assert.deepEqual(await route({ type: 'init' }, contentSender), { ok: true, result: 'hello' });
  assert.deepEqual(await route({ type: 'init' }, pageSender), { ok: false, error: 'unknown message type for page: init' });
  assert.deepEqual(await route({ type: 'continue', url: 'u' }, pageSender), { ok: false, error: 'no u' });
  assert.equal((await route({ type: 'continue', url: 'u' }, contentSender)).ok, false);
  assert.equal((await route({ type: 'status' }, pageSender)).error, 'no handler for status');
  assert.deepEqual(seen, [['content', 7]]);
});
