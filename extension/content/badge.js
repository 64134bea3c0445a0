/**
 * The hover badge: one element whose content lives in a closed shadow root, so the page can
 * neither read nor rewrite the verdict. Its text comes only from the worker (the service's
 * verdict and the extension's own strings), never from the page. The host element carries
 * `data-meetguard-class` and `data-meetguard-action` for tests and for assistive tools.
 */

const COLORS = { approved: '#1b7f3b', warned: '#b45309', unknown: '#475569', block: '#b91c1c' };

const STYLE = `
  :host { all: initial; }
  .card { font: 13px/1.35 system-ui, "Segoe UI", Roboto, sans-serif; color: #111; background: #fff;
    border: 1px solid #cbd5e1; border-left: 6px solid var(--c); border-radius: 6px; padding: 6px 10px;
    box-shadow: 0 4px 14px rgba(0,0,0,.18); max-width: 360px; }
  .head { font-weight: 600; color: var(--c); }
  .reason { margin-top: 2px; }
  .host { margin-top: 2px; font-family: ui-monospace, monospace; word-break: break-all; }
`;

function fixed(el, props) {
  for (const [k, v] of Object.entries(props)) el.style.setProperty(k, v, 'important');
}

export function createBadge(strings) {
  const host = document.createElement('meetguard-badge');
  const root = host.attachShadow({ mode: 'closed' });
  const style = document.createElement('style');
  style.textContent = STYLE;
  const card = document.createElement('div');
  card.className = 'card';
  const head = document.createElement('div');
  head.className = 'head';
  const reason = document.createElement('div');
  reason.className = 'reason';
  const dest = document.createElement('div');
  dest.className = 'host';
  card.append(head, reason, dest);
  root.append(style, card);
  fixed(host, { position: 'fixed', 'z-index': '2147483647', display: 'none', margin: '0', padding: '0', 'pointer-events': 'none' });

  function place(rect) {
    if (!host.isConnected) document.documentElement.append(host);
    const top = rect.bottom + 6 + 90 > innerHeight ? Math.max(0, rect.top - 96) : rect.bottom + 6;
    fixed(host, { display: 'block', left: `${Math.max(0, Math.min(rect.left, innerWidth - 370))}px`, top: `${top}px` });
  }

  function setVerdict(v) {
    if (!v) {
      host.removeAttribute('data-meetguard-class');
      host.removeAttribute('data-meetguard-action');
      host.setAttribute('data-meetguard-state', 'checking');
      card.style.setProperty('--c', COLORS.unknown);
      head.textContent = strings.badge_checking;
      reason.textContent = '';
      dest.textContent = '';
      return;
    }
    host.setAttribute('data-meetguard-class', v.class);
    host.setAttribute('data-meetguard-action', v.action);
    host.setAttribute('data-meetguard-state', 'done');
    card.style.setProperty('--c', v.action === 'block' ? COLORS.block : COLORS[v.class]);
    head.textContent = `${strings[`class_${v.class}`]} · ${strings[`action_${v.action}`]}`;
    reason.textContent = v.reason;
    // Both forms of a disguised name: the letters people see and the punycode the browser uses.
    const shown = v.display_host && v.host && v.display_host !== v.host ? `${v.display_host} (${v.host})` : v.display_host || v.host;
    dest.textContent = strings.badge_goes_to.replace('$1', () => shown);
  }

  return {
    show(rect, verdict) {
      setVerdict(verdict);
      place(rect);
    },
    unavailable() {
      host.setAttribute('data-meetguard-state', 'error');
      head.textContent = strings.badge_unavailable;
    },
    hide() {
      fixed(host, { display: 'none' });
    },
  };
}
