// Drives Debian's Firefox ESR over WebDriver BiDi (puppeteer-core, offline) through the
// extension's user flows and prints what it saw, one JSON object per line, for
// tests/browser/test_firefox.py to judge. It asserts nothing itself: the Python test does.
//
// Usage: node flows.mjs CONFIG_JSON
//   {"sitePort", "uuid", "geckoId", "downloadDir", "profileDir"}
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';

const config = JSON.parse(process.argv[2]);
const ext = (path) => `moz-extension://${config.uuid}/${path}`;
const report = (step, data) => console.log(JSON.stringify({ step, ...data }));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Calls fn until it returns something truthy (or the time is up); returns the last value. */
async function poll(fn, timeoutMs = 20_000, intervalMs = 250) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn().catch(() => null);
    if (value || Date.now() > end) return value;
    await sleep(intervalMs);
  }
}

/** `page.goto` of a moz-extension:// page may never resolve: start it, do not wait for it. */
function open(page, url) {
  page.goto(url, { timeout: 5_000 }).catch(() => {});
}

const here = (page) => page.evaluate(() => location.href);

/** Installed by policy from the service, configured by policies.json: the options page. */
async function managedOptions() {
  const page = await browser.newPage();
  const fields = await poll(async () => {
    open(page, ext('pages/options/options.html'));
    await sleep(1_000);
    const values = await page.evaluate(() => Object.fromEntries(
      ['serverUrl', 'apiKey', 'language'].map((id) => [id, {
        value: document.getElementById(id).value, disabled: document.getElementById(id).disabled,
      }])));
    return values.serverUrl.disabled ? values : null;
  }, 40_000, 500);
  report('options', { fields, version: await page.evaluate(() => browser.runtime.getManifest().version).catch(() => null) });
  await page.close();
}

/** The badge as shown now (null while hidden or still checking). */
function shownBadge(page) {
  return page.evaluate(() => {
  const badge = document.querySelector('meetguard-badge');
  if (!badge || badge.style.display !== 'block' || badge.getAttribute('data-meetguard-state') !== 'done') return null;
  return { class: badge.getAttribute('data-meetguard-class'), action: badge.getAttribute('data-meetguard-action') };
  });
}

async function hoverBadges(page) {
  const badges = {};
  for (const name of ['approved', 'warned', 'unknown', 'lookalike']) {
    await page.mouse.move(1, 1);
    await poll(async () => (await shownBadge(page)) === null);
    await page.hover(`#${name}`);
    badges[name] = await poll(() => shownBadge(page), 10_000);
  }
  report('hover', { badges });
}

async function clickAndContinue(page) {
  await page.click('#warned');
  const warning = await poll(async () => {
    if (!(await here(page)).startsWith(ext('pages/warning/'))) return null;
    return page.evaluate(() => {
      const root = document.documentElement;
      if (!root.getAttribute('data-meetguard-class')) return null;
      return { class: root.getAttribute('data-meetguard-class'), action: root.getAttribute('data-meetguard-action'),
        target: root.getAttribute('data-meetguard-target'), lang: root.lang,
        canContinue: !document.getElementById('continue').hidden, text: document.body.innerText };
    });
  });
  report('warning', { warning, url: await here(page) });
  if (!warning) return;
  await page.click('#continue');
  const landed = await poll(async () => ((await here(page)).startsWith('https://zoom.us/') ? here(page) : null));
  report('continued', { landed });
}

/** A blocked download (EICAR) is removed and explained; a clean one is kept. */
async function downloads() {
  const page = await browser.newPage();
  await page.goto('https://files.example.org/downloads.html');
  const before = new Set(await browser.pages());
  await page.click('#eicar');
  // The explanation opens in a new tab; page.url() does not follow moz-extension:// pages, so
  // each new tab is asked where it is.
  const fileUrl = ext('pages/warning/warning.html?file=');
  const explanation = await poll(async () => {
    for (const candidate of await browser.pages()) {
      if (!before.has(candidate) && (await here(candidate).catch(() => '')).startsWith(fileUrl)) return candidate;
    }
    return null;
  }, 30_000, 500);
  const warningUrl = explanation ? await here(explanation) : null;
  const file = explanation && await poll(() => explanation.evaluate(() => {
    const root = document.documentElement;
    return root.getAttribute('data-meetguard-action') ? { action: root.getAttribute('data-meetguard-action'), text: document.body.innerText } : null;
  }));
  report('download-blocked', { warningUrl, file });
  await page.bringToFront();
  await page.click('#clean');
  const kept = await poll(async () => existsSync(join(config.downloadDir, 'agenda.txt')), 20_000);
  report('download-clean', { kept, files: readdirSync(config.downloadDir) });
}

// Launched last: the flows above are declared before the top-level awaits run them.
const browser = await puppeteer.launch({
  browser: 'firefox',
  executablePath: '/usr/bin/firefox-esr',
  headless: true,
  protocol: 'webDriverBiDi',
  acceptInsecureCerts: true,
  userDataDir: config.profileDir,
  args: ['--remote-allow-system-access'],
  extraPrefsFirefox: {
    // Fixed moz-extension:// host for the gecko id, so the test can open the extension's pages.
    'extensions.webextensions.uuids': JSON.stringify({ [config.geckoId]: config.uuid }),
    // ESR installs the unsigned XPI the kit packed (see README, "Firefox and signing"), from a
    // loopback http service in this test.
    'xpinstall.signatures.required': false,
    'extensions.install.requireSecureOrigin': false,
    'extensions.checkUpdateSecurity': false,
    // Every host name goes to the local fixture site: nothing leaves the machine.
    'network.dns.forceResolve': '127.0.0.1',
    'network.socket.forcePort': `443=${config.sitePort};80=${config.sitePort}`,
    'browser.download.folderList': 2,
    'browser.download.dir': config.downloadDir,
    'browser.download.useDownloadDir': true,
    'browser.download.always_ask_before_handling_new_types': false,
    'browser.download.alwaysOpenPanel': false,
  },
});

try {
  await managedOptions();
  const inbox = await browser.newPage();
  await inbox.goto('https://mail.example.org/inbox');
  await hoverBadges(inbox);
  await clickAndContinue(inbox);
  await downloads();
} finally {
  await browser.close();
}

