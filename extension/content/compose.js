/**
 * The send-time guard. On compose hosts (webmail, chat web apps) a send (the send control,
 * Ctrl/⌘+Enter, Enter in chat apps, a form submit) is held when the message holds room details
 * and a recipient is outside the organisation (or the page shows none); on public post hosts a
 * paste is held the same way. The dialog is an extension page in an iframe: the page can
 * neither read nor click it. The message text stays in this script: the worker gets what the
 * dialog shows, and the service only the outcome.
 */

import * as ext from '../lib/ext.js';
import { addressesIn, compileRoomDetails, describeFinding, findRoomDetails, linkSecret, recipientsOutside, removalEdits, removeRoomSecrets } from '../lib/roomdetails.js';

const SEND_LABEL = /^\s*(send|gửi|gui)\b/iu;
const RECIPIENT_FIELD = /^_?(to|cc|bcc)$/i;
const RECIPIENT_LABEL = /^\s*(to|cc|bcc|recipients?|đến|tới|người nhận)\b/iu;
const CONTROL = 'button, input[type=submit], input[type=button], [role=button], a';
const RECIPIENTS = '[email], [data-hovercard-id*="@"], .recipient-input, .recipient, [data-recipient]';
const POLL_MS = 200;
const BLOCKS = new Set(['P', 'DIV', 'LI', 'TR', 'H1', 'H2', 'H3', 'H4', 'H5', 'H6', 'BLOCKQUOTE', 'PRE', 'TABLE', 'UL', 'OL']);

function sameOriginTop() {
  try {
    return window.top.document ? window.top : window;
  } catch {
    return window;
  }
}

function fieldName(node) {
  return `${node.getAttribute('name') ?? ''} ${node.id ?? ''}`.trim().split(/\s+/);
}

function isRecipientField(node) {
  return fieldName(node).some((n) => RECIPIENT_FIELD.test(n)) || RECIPIENT_LABEL.test(node.getAttribute('aria-label') ?? '');
}

/** Editable roots of a document: textareas, contenteditable roots, same-origin iframe bodies. */
function editorsIn(doc, depth = 0) {
  const out = [];
  for (const node of doc.querySelectorAll('textarea, [contenteditable]:not([contenteditable=false])')) {
    if (node.tagName === 'TEXTAREA' ? isRecipientField(node) || node.disabled : node.parentElement?.closest('[contenteditable]:not([contenteditable=false])')) continue;
    if (node.tagName !== 'TEXTAREA' && !node.isContentEditable) continue;
    out.push(node);
  }
  if (doc.designMode === 'on' && doc.body) out.push(doc.body);
  if (depth < 2) {
    for (const frame of doc.querySelectorAll('iframe')) {
      let inner = null;
      try {
        inner = frame.contentDocument;
      } catch {
        inner = null;
      }
      if (inner) out.push(...editorsIn(inner, depth + 1));
    }
  }
  return [...new Set(out)];
}

function recipientTexts(doc) {
  const texts = [];
  for (const node of doc.querySelectorAll('input, textarea')) {
    if (isRecipientField(node)) texts.push(node.value);
  }
  for (const node of doc.querySelectorAll(RECIPIENTS)) {
    texts.push(node.getAttribute('email') ?? '', node.getAttribute('data-hovercard-id') ?? '', node.textContent ?? '');
  }
  return texts;
}

/** The text of an editor with a map back to its text nodes (blocks and <br> become newlines). */
function textMap(root) {
  if (root.tagName === 'TEXTAREA' || root.tagName === 'INPUT') return { text: root.value, segments: null };
  let text = '';
  const segments = [];
  const walker = root.ownerDocument.createTreeWalker(root, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (node.nodeType === Node.TEXT_NODE) {
      segments.push({ node, start: text.length, end: text.length + node.data.length });
      text += node.data;
    } else if ((node.tagName === 'BR' || BLOCKS.has(node.tagName)) && text && !text.endsWith('\n')) {
      text += '\n';
    }
  }
  return { text, segments };
}

/** The DOM position of a text offset; offsets on a virtual newline go to the next text node
 * (a start) or stay at the end of the previous one (an end). */
function point(segments, offset, isEnd) {
  const seg = isEnd
    ? [...segments].reverse().find((s) => s.start < offset) ?? segments[0]
    : segments.find((s) => s.end > offset) ?? segments[segments.length - 1];
  if (!seg) return null;
  return { node: seg.node, offset: Math.max(0, Math.min(offset - seg.start, seg.node.data.length)) };
}

/** Removes the secrets from an HTML editor: text edits through DOM ranges, links' hrefs. */
function cleanRichEditor(root, compiled) {
  const walker = root.ownerDocument.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const nfc = node.data.normalize('NFC');
    if (nfc !== node.data) node.data = nfc;
  }
  const { text, segments } = textMap(root);
  for (const edit of removalEdits(text, compiled)) {
    const start = point(segments, edit.start, false);
    const end = point(segments, edit.end, true);
    if (!start || !end) continue;
    const range = root.ownerDocument.createRange();
    range.setStart(start.node, start.offset);
    range.setEnd(end.node, end.offset);
    if (range.collapsed && !edit.text) continue;
    range.deleteContents();
    if (edit.text) range.insertNode(root.ownerDocument.createTextNode(edit.text));
  }
  for (const a of root.querySelectorAll('a[href]')) {
    const secret = linkSecret(a.href, compiled);
    if (secret) a.setAttribute('href', secret.clean);
  }
}

function cleanEditor(root, compiled) {
  if (root.tagName === 'TEXTAREA' || root.tagName === 'INPUT') {
    const cleaned = removeRoomSecrets(root.value, compiled);
    if (cleaned !== root.value.normalize('NFC')) {
      root.value = cleaned;
      root.dispatchEvent(new Event('input', { bubbles: true }));
      root.dispatchEvent(new Event('change', { bubbles: true }));
    }
    return;
  }
  cleanRichEditor(root, compiled);
  root.dispatchEvent(new Event('input', { bubbles: true }));
}

function controlOf(event) {
  for (const node of event.composedPath()) {
    if (!(node instanceof Element)) continue;
    if (node.matches(CONTROL)) return node;
    if (node === event.currentTarget) break;
  }
  return null;
}

function isSendControl(node) {
  const label = node.getAttribute('aria-label') || node.getAttribute('title') || (node.tagName === 'INPUT' ? node.value : node.textContent) || '';
  return SEND_LABEL.test(label) || node.hasAttribute('data-meetguard-send') || node.classList.contains('send') || fieldName(node).some((n) => /^_?send$/i.test(n));
}

export function startComposeGuard({ policy, guard }) {
  const compiled = compileRoomDetails(policy?.room_details);
  if (!compiled) return null;
  const organisation = policy?.organisation_domains ?? [];
  const top = sameOriginTop();
  let open = null;
  let bypass = false;

  /** What would leave now: findings in every editor, and where it goes. */
  function inspect(extra) {
    const doc = top.document;
    const editors = editorsIn(doc);
    if (extra && !editors.includes(extra) && (extra.tagName === 'INPUT' || extra.isContentEditable)) editors.push(extra);
    const withFindings = editors
      .map((root) => ({ root, findings: findRoomDetails(textMap(root).text, compiled) }))
      .filter((e) => e.findings.length);
    if (!withFindings.length) return null;
    const { outside, domains } = recipientsOutside(addressesIn(recipientTexts(doc)), organisation);
    if (!outside) return null;
    return { editors: withFindings.map((e) => e.root), findings: withFindings.flatMap((e) => e.findings), domains };
  }

  async function ask(findings, domains, context) {
    const shown = findings.slice(0, 20).map((f) => ({ ...describeFinding(f), ...(f.kind === 'link' ? { clean: f.clean } : {}) }));
    const reply = await ext.runtime.sendMessage({ type: 'room-details-dialog', findings: shown, domains, context });
    if (!reply?.ok) throw new Error(reply?.error ?? 'no dialog');
    const frame = top.document.createElement('iframe');
    frame.setAttribute('data-meetguard-dialog', 'room-details');
    frame.setAttribute('title', 'MeetGuard');
    frame.src = reply.result.url;
    frame.style.cssText = 'position:fixed!important;z-index:2147483647!important;top:12vh!important;left:50%!important;transform:translateX(-50%)!important;width:min(600px,94vw)!important;height:min(440px,76vh)!important;border:0!important;border-radius:10px!important;box-shadow:0 8px 40px rgba(0,0,0,.45)!important;background:#fff!important;display:block!important;visibility:visible!important;opacity:1!important';
    top.document.documentElement.append(frame);
    frame.focus();
    try {
      for (;;) {
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
        if (!frame.isConnected) return 'cancel'; // the page took the dialog away: nothing is sent
        const outcome = await ext.runtime.sendMessage({ type: 'room-details-outcome', token: reply.result.token });
        if (!outcome?.ok) return 'cancel';
        if (outcome.result.choice) return outcome.result.choice;
      }
    } finally {
      frame.remove();
    }
  }

  function again(fn) {
    bypass = true;
    try {
      fn();
    } finally {
      bypass = false;
    }
  }

  /** Holds the event when room details would leave; `resend` sends it again after the choice. */
  function hold(event, extra, resend) {
    if (bypass) return;
    if (open) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    const found = inspect(extra);
    if (!found) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    open = ask(found.findings, found.domains, 'compose')
      .then((choice) => {
        if (choice === 'remove') for (const root of found.editors) cleanEditor(root, compiled);
        if (choice === 'remove' || choice === 'send') again(resend);
        else found.editors[0]?.focus?.();
      })
      .catch(() => {})
      .finally(() => { open = null; });
  }

  function onClick(event) {
    if (!event.isTrusted || event.button !== 0) return;
    const control = controlOf(event);
    if (control && isSendControl(control)) hold(event, null, () => control.click());
  }

  function onKeyDown(event) {
    if (!event.isTrusted || event.key !== 'Enter' || event.isComposing || event.altKey) return;
    const target = event.composedPath()[0];
    const editable = target instanceof Element && (target.isContentEditable || ['TEXTAREA', 'INPUT'].includes(target.tagName));
    if (!editable || (target.tagName === 'TEXTAREA' && isRecipientField(target))) return;
    const chord = event.ctrlKey || event.metaKey;
    if (!chord && (event.shiftKey || !guard.enterSends)) return;
    const init = { key: 'Enter', code: event.code, keyCode: 13, which: 13, ctrlKey: event.ctrlKey, metaKey: event.metaKey, shiftKey: event.shiftKey, bubbles: true, cancelable: true, composed: true };
    hold(event, target, () => target.dispatchEvent(new KeyboardEvent('keydown', init)));
  }

  function onSubmit(event) {
    if (!event.isTrusted) return;
    const form = event.target;
    const submitter = event.submitter ?? null;
    hold(event, null, () => form.requestSubmit(submitter && submitter.form === form ? submitter : undefined));
  }

  function onPaste(event) {
    if (!event.isTrusted || bypass) return;
    const text = event.clipboardData?.getData('text/plain') ?? '';
    const findings = findRoomDetails(text, compiled);
    if (!findings.length) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    if (open) return;
    const target = event.composedPath()[0];
    open = ask(findings, [], 'paste')
      .then((choice) => {
        if (choice === 'cancel') return;
        const pasted = choice === 'remove' ? removeRoomSecrets(text, compiled) : text;
        target.focus?.();
        if (target.tagName === 'TEXTAREA' || target.tagName === 'INPUT') {
          target.setRangeText(pasted, target.selectionStart ?? target.value.length, target.selectionEnd ?? target.value.length, 'end');
          target.dispatchEvent(new Event('input', { bubbles: true }));
        } else {
          again(() => target.ownerDocument.execCommand('insertText', false, pasted));
        }
      })
      .catch(() => {})
      .finally(() => { open = null; });
  }

  if (guard.compose) {
    addEventListener('click', onClick, true);
    addEventListener('keydown', onKeyDown, true);
    addEventListener('submit', onSubmit, true);
  }
  if (guard.public) addEventListener('paste', onPaste, true);
  return { inspect };
}
