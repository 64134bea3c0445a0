/**
 * Messages in the user's language. The browser's own `i18n.getMessage` follows the browser's UI
 * language only, while IT can set the language by policy, so the extension reads its own
 * `_locales/<lang>/messages.json` (the same files, the same `$placeholder$` format) itself.
 */

export const LANGUAGES = Object.freeze(['vi', 'en']);

/** The language to use: the configured one, else the browser's UI language, else English. */
export function pickLanguage(configured, uiLanguage) {
  if (LANGUAGES.includes(configured)) return configured;
  const ui = String(uiLanguage ?? '').toLowerCase().split(/[-_]/)[0];
  return LANGUAGES.includes(ui) ? ui : 'en';
}

/**
 * A translator over one messages.json object, with Chrome's substitution rules:
 * `$name$` is replaced by the placeholder's content, in which `$1`…`$9` are the arguments;
 * `$$` is a literal dollar sign.
 * @param {Record<string, {message: string, placeholders?: Record<string, {content: string}>}>} messages
 * @returns {(key: string, ...args: (string|number)[]) => string}
 */
export function createTranslator(messages) {
  const table = new Map();
  for (const [key, entry] of Object.entries(messages)) table.set(key.toLowerCase(), entry);
  return (key, ...args) => {
    const entry = table.get(key.toLowerCase());
    if (!entry) return '';
    const placeholders = {};
    for (const [name, ph] of Object.entries(entry.placeholders ?? {})) {
      placeholders[name.toLowerCase()] = substitute(ph.content, args);
    }
    const withNames = entry.message.replace(/\$([A-Za-z0-9_@]+)\$/g, (whole, name) =>
      name.toLowerCase() in placeholders ? placeholders[name.toLowerCase()] : whole);
    return withNames.replace(/\$\$/g, '$');
  };
}

function substitute(content, args) {
  return content.replace(/\$([1-9])/g, (_, n) => String(args[Number(n) - 1] ?? ''));
}

/** Fills every element that has a `data-i18n` message key (text) or `data-i18n-title` (title). */
export function localizeDocument(doc, t) {
  for (const el of doc.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of doc.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
}
