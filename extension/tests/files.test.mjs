import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { baseName, fileFacts, mustRemove, randomToken, readBounded, sha256Hex, TooLargeError } from '../lib/files.js';

const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';

function streamed(chunks, headers = {}) {
  const body = new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(new TextEncoder().encode(c));
      controller.close();
    },
  });
  return new Response(body, { headers });
}

test('bodies are read whole below the limit', async () => {
  const bytes = await readBounded(streamed(['ab', 'cd', 'e']), 5);
  assert.equal(new TextDecoder().decode(bytes), 'abcde');
});

test('a body over the limit fails, whether declared or streamed', async () => {
  await assert.rejects(readBounded(streamed(['abc', 'def']), 5), TooLargeError);
  await assert.rejects(readBounded(streamed(['a'], { 'Content-Length': '10' }), 5), TooLargeError);
});

test('SHA-256 by WebCrypto matches an independent implementation', async () => {
  const bytes = new TextEncoder().encode(EICAR);
  assert.equal(await sha256Hex(bytes), createHash('sha256').update(EICAR).digest('hex'));
  assert.equal(await sha256Hex(bytes), '275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f');
});

test('file names without folders', () => {
  assert.equal(baseName('/home/u/Downloads/invite.pdf.exe', 'https://x.test/a'), 'invite.pdf.exe');
  assert.equal(baseName('C:\\Users\\u\\Downloads\\a.zip', ''), 'a.zip');
  assert.equal(baseName('', 'https://x.test/files/eicar%20test.com?x=1'), 'eicar test.com');
  assert.equal(baseName('', 'not a url'), 'download');
});

test('file facts and the removal decision', () => {
  assert.deepEqual(fileFacts({ sha256: 'a', size: 1, filename: '', mime: '', url: 'u' }),
    { sha256: 'a', size: 1, filename: 'download', mime: 'application/octet-stream', source_url: 'u' });
  assert.ok(mustRemove({ action: 'block' }));
  assert.ok(!mustRemove({ action: 'warn' }));
  assert.ok(!mustRemove(null));
});

test('random tokens are hex and differ', () => {
  const a = randomToken();
  assert.match(a, /^[0-9a-f]{32}$/);
  assert.notEqual(a, randomToken());
});
