// The console's entry point: language, session (sign-in, sign-out), and the view for the URL.

import { api, ApiError, setCsrf } from './api.js';
import { bindDashboard, clearDashboard, renderDashboard } from './dashboard.js';
import { byId } from './dom.js';
import { LANGUAGES, setLanguage, t } from './i18n.js';
import { bindLogs, clearLogs, relabel, renderLogs, setVocabulary } from './logs.js';
import { bindPeople, clearPeople, renderPeople } from './people.js';
import { bindRetro, clearRetro, renderRetro } from './retro.js';
import { bindSignatures, clearSignatures, renderSignatures } from './signatures.js';
import { go, readState, urlOf, VIEWS } from './state.js';

const RENDER = {
  logs: renderLogs, dashboard: renderDashboard, people: renderPeople, signatures: renderSignatures,
  retro: renderRetro,
};
let session = null;
let rendering = 0;

function preferredLanguage() {
  const fromUrl = readState().lang;
  if (fromUrl in LANGUAGES) return fromUrl;
  const saved = window.localStorage.getItem('meetguard.lang');
  if (saved in LANGUAGES) return saved;
  return (navigator.language || '').toLowerCase().startsWith('vi') ? 'vi' : 'en';
}

function status(text = '', kind = '') {
  const el = byId('status');
  el.textContent = text;
  el.className = `status ${kind}`;
}

function showError(error) {
  if (error instanceof ApiError && error.status === 401) {
    signedOut(t('signin.expired'));
    return;
  }
  const detail = error instanceof ApiError && error.status === 0
    ? t('status.offline') : (error && error.message) || String(error);
  status(t('status.error', { detail }), 'error');
  document.body.dataset.ready = 'error';
}

function signedOut(message = '') {
  session = null;
  setCsrf('');
  clearLogs();
  clearDashboard();
  clearPeople();
  clearSignatures();
  clearRetro();
  for (const view of VIEWS) byId(`view-${view}`).hidden = true;
  byId('nav').hidden = true;
  byId('signout').hidden = true;
  byId('who').textContent = '';
  byId('signin').hidden = false;
  byId('signin-error').textContent = message;
  byId('token').focus();
  status();
  document.body.dataset.ready = 'signin';
}

function signedIn(answer) {
  session = answer;
  setCsrf(answer.csrf);
  setVocabulary(answer.vocabulary);
  byId('signin').hidden = true;
  byId('nav').hidden = false;
  byId('signout').hidden = false;
  byId('who').textContent = t('who', { name: answer.name });
}

/** Show the view the URL names; stale renders (the user moved on) are dropped. */
async function route() {
  if (!session) return;
  const state = readState();
  const canonical = urlOf(state); // defaults written out: what is shown is what is shared
  if (canonical !== window.location.search) {
    window.history.replaceState(window.history.state, '', canonical);
  }
  const ticket = ++rendering;
  document.body.dataset.ready = 'loading';
  for (const view of VIEWS) byId(`view-${view}`).hidden = view !== state.view;
  for (const link of document.querySelectorAll('#nav a')) {
    const target = { ...state, view: link.dataset.view, cursor: '', record: '' };
    link.setAttribute('href', urlOf(target));
    link.setAttribute('aria-current', String(link.dataset.view === state.view));
  }
  status(t('status.loading'));
  try {
    await RENDER[state.view](state);
    if (ticket !== rendering) return;
    status();
    document.body.dataset.ready = state.view;
  } catch (error) {
    if (ticket === rendering) showError(error);
  }
}

async function signIn(event) {
  event.preventDefault();
  const input = byId('token');
  const errors = { 401: 'signin.bad', 403: 'signin.client', 429: 'signin.throttled' };
  try {
    const answer = await api('/session', { method: 'POST', body: { token: input.value } });
    input.value = '';
    signedIn(answer);
    await route();
  } catch (error) {
    input.value = '';
    if (error instanceof ApiError && errors[error.status]) {
      byId('signin-error').textContent = t(errors[error.status]);
      document.body.dataset.ready = 'signin';
    } else {
      showError(error);
    }
  }
}

async function signOut() {
  try {
    await api('/signout', { method: 'POST' });
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401) {
      showError(error);
      return;
    }
  }
  signedOut();
}

function changeLanguage(lang) {
  window.localStorage.setItem('meetguard.lang', lang);
  setLanguage(lang);
  if (session) {
    byId('who').textContent = t('who', { name: session.name });
    relabel();
    go({ ...readState(), lang }, { replace: true, history: window.history.state });
  }
}

function bind() {
  byId('signin-form').addEventListener('submit', signIn);
  byId('signout').addEventListener('click', signOut);
  const lang = byId('lang');
  lang.addEventListener('change', () => changeLanguage(lang.value));
  for (const link of document.querySelectorAll('#nav a')) {
    link.addEventListener('click', (event) => {
      event.preventDefault();
      go({ ...readState(), view: link.dataset.view, cursor: '', record: '' });
    });
  }
  window.addEventListener('popstate', route);
  window.addEventListener('meetguard:navigate', route);
  bindLogs(readState);
  bindDashboard(readState);
  bindPeople(readState);
  bindSignatures(showError);
  bindRetro(readState);
}

async function main() {
  const lang = setLanguage(preferredLanguage());
  byId('lang').value = lang;
  bind();
  try {
    signedIn(await api('/session'));
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      signedOut();
      return;
    }
    showError(error);
    return;
  }
  await route();
}

main();
