/** Helpers shared by the extension's pages (warning, popup, options). */

import * as ext from '../lib/ext.js';
import { createTranslator, localizeDocument } from '../lib/i18n.js';

/** Sends a page message to the worker; throws with the worker's error when it refuses. */
export async function send(type, fields = {}) {
  const reply = await ext.runtime.sendMessage({ type, ...fields });
  if (!reply?.ok) throw new Error(reply?.error ?? 'no answer from the extension');
  return reply.result;
}

/** The translator for `lang`, and the document's `data-i18n` texts filled in. */
export async function localize(lang) {
  const response = await fetch(ext.runtime.getURL(`_locales/${lang}/messages.json`));
  const t = createTranslator(await response.json());
  document.documentElement.lang = lang;
  localizeDocument(document, t);
  return t;
}

/** Creates an element with text content (never HTML) and attributes. */
export function el(tag, { text, className, ...attrs } = {}, ...children) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

export { ext };
