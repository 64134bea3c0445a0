import test from 'node:test';
import assert from 'node:assert/strict';
import { createTranslator, pickLanguage } from '../lib/i18n.js';

const messages = {
  plain: { message: 'Hello' },
  withArgs: { message: 'Go to $HOST$ ($CLASS$) for $$5', placeholders: { host: { content: '$1' }, class: { content: '$2' } } },
  literal: { message: 'Keep $unknown$ as is' },
};

test('placeholders, positional arguments and $$ follow Chrome\'s rules', () => {
  const t = createTranslator(messages);
  assert.equal(t('plain'), 'Hello');
  assert.equal(t('WITHARGS', 'zoom.us', 'warned'), 'Go to zoom.us (warned) for $5');
  assert.equal(t('withArgs', 'zoom.us'), 'Go to zoom.us () for $5');
  assert.equal(t('literal'), 'Keep $unknown$ as is');
  assert.equal(t('missing'), '');
});

test('an argument is never re-expanded', () => {
  const t = createTranslator(messages);
  assert.equal(t('withArgs', '$2', 'x'), 'Go to $2 (x) for $5');
});

test('language: configured, else browser UI language, else English', () => {
  assert.equal(pickLanguage('vi', 'en-US'), 'vi');
  assert.equal(pickLanguage('', 'vi-VN'), 'vi');
  assert.equal(pickLanguage('', 'vi'), 'vi');
  assert.equal(pickLanguage(undefined, 'fr-FR'), 'en');
  assert.equal(pickLanguage('de', undefined), 'en');
});
