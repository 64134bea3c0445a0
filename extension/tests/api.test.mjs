import test from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { buildHeaders, createClient, errorFor, parseRetryAfter, ServiceError } from '../lib/api.js';

test('every request carries the key, the install id, the language and the user', () => {
  assert.deepEqual(buildHeaders({ apiKey: 'k', installId: 'i', userLabel: 'alice', language: 'vi' }), {
    Authorization: 'Bearer k', 'X-MeetGuard-Install': 'i', 'Accept-Language': 'vi', Accept: 'application/json', 'X-MeetGuard-User': 'alice',
  });
  const h = buildHeaders({ apiKey: 'k', installId: 'i', userLabel: 'Nguyễn', language: '' });
  assert.equal(h['Accept-Language'], 'en');
  assert.equal(h['X-MeetGuard-User'], 'Nguy%E1%BB%85n');
  assert.ok(!('X-MeetGuard-User' in buildHeaders({ apiKey: 'k', installId: 'i', userLabel: '' })));
});

test('Retry-After in seconds or as a date, bounded', () => {
  assert.equal(parseRetryAfter('12'), 12);
  assert.equal(parseRetryAfter(null), 60);
  assert.equal(parseRetryAfter('99999'), 3600);
  const now = Date.parse('2024-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('Mon, 01 Jan 2024 00:00:30 GMT', now), 30);
  assert.equal(parseRetryAfter('garbage'), 60);
});

test('HTTP failures map to what the caller should do', () => {
  const problem = { type: 'x', title: 'Bad key', status: 401, detail: 'unknown client key' };
  const e = errorFor(401, problem);
  assert.ok(e instanceof ServiceError);
  assert.equal(e.kind, 'auth');
  assert.match(e.message, /unknown client key/);
  assert.equal(errorFor(429, null, '7').retryAfter, 7);
  assert.equal(errorFor(429, null, '7').kind, 'rate');
  assert.equal(errorFor(503, null).kind, 'offline');
  assert.equal(errorFor(400, { detail: 'too many' }).kind, 'bad-request');
});

async function closedPort() {
  const server = net.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

test('a service nobody answers on is offline, not an exception of another kind', async () => {
  const port = await closedPort();
  const client = createClient({
    settings: () => ({ serverUrl: `http://127.0.0.1:${port}`, apiKey: 'k', userLabel: '', language: 'en' }),
    installId: async () => 'i', fetch,
  });
  await assert.rejects(client.checkLinks(['https://x.test/'], 'click'), (e) => e instanceof ServiceError && e.kind === 'offline');
});

test('an unconfigured client does not send anything', async () => {
  let called = false;
  const client = createClient({ settings: () => ({ serverUrl: '', apiKey: '' }), installId: async () => 'i', fetch: async () => { called = true; } });
  await assert.rejects(client.getPolicy(), (e) => e.kind === 'offline' && /not configured/.test(e.message));
  assert.equal(called, false);
});
