// Building DOM from data, safely: text always goes in as text nodes (never markup), control
// and invisible characters are shown as visible symbols, and links only ever point inside
// the console. Nothing here parses HTML; the page's CSP (Trusted Types) would refuse it anyway.

const SVG_NS = 'http://www.w3.org/2000/svg';

// C0/C1 controls, DEL, soft hyphen, bidi marks and overrides, zero-width and invisible
// characters, BOM and interlinear annotations: all of them can hide or reorder what a URL says.
const HIDDEN = /[\u0000-\u001f\u007f-\u009f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb]/gu;

/** The text with every control or invisible character replaced by a visible stand-in. */
export function visible(text) {
  return String(text).replace(HIDDEN, (c) => {
    const code = c.codePointAt(0);
    if (code < 0x20) return String.fromCodePoint(0x2400 + code); // ␀ … ␟
    if (code === 0x7f) return '\u2421'; // ␡
    return `\u27e8U+${code.toString(16).toUpperCase().padStart(4, '0')}\u27e9`;
  });
}

function safeHref(value) {
  const text = String(value);
  // Only links within the console: a query string or an /admin path. Never data from a record.
  if (text.startsWith('?') || text.startsWith('/admin/')) return text;
  throw new Error('refusing a link outside the console');
}

function setAttributes(el, attrs) {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'class') el.setAttribute('class', value);
    else if (name === 'dataset') Object.assign(el.dataset, value);
    else if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (name.startsWith('on')) throw new Error(`refusing attribute ${name}`);
    else if (name === 'href') el.setAttribute('href', safeHref(value));
    else el.setAttribute(name, value === true ? '' : String(value));
  }
}

function appendChildren(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : visible(child));
  }
}

/** h('td', {class: 'x'}, 'text', otherNode) → an element; strings become text nodes. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  setAttributes(el, attrs);
  appendChildren(el, children);
  return el;
}

/** The same for SVG elements. */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttributes(el, attrs);
  appendChildren(el, children);
  return el;
}

/** Replace every child of `el` with `children`. */
export function fill(el, ...children) {
  el.replaceChildren();
  appendChildren(el, children);
  return el;
}

export const byId = (id) => document.getElementById(id);
