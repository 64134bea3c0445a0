/**
 * Download checks: the worker fetches the same URL itself (the extension cannot read the
 * downloaded file from disk), reads at most `maxBytes`, and hashes the bytes with WebCrypto.
 */

export class TooLargeError extends Error {
  constructor(limit) {
    super(`file larger than ${limit} bytes`);
    this.name = 'TooLargeError';
  }
}

/** Reads a Response body into one Uint8Array, failing as soon as it passes `maxBytes`. */
export async function readBounded(response, maxBytes) {
  const declared = Number(response.headers.get('Content-Length'));
  if (Number.isFinite(declared) && declared > maxBytes) throw new TooLargeError(maxBytes);
  if (!response.body) return new Uint8Array(await response.arrayBuffer());
  const reader = response.body.getReader();
  const parts = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new TooLargeError(maxBytes);
    }
    parts.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const p of parts) {
    bytes.set(p, offset);
    offset += p.byteLength;
  }
  return bytes;
}

/** Lower-case hex SHA-256 of the bytes (WebCrypto). */
export async function sha256Hex(bytes, subtle = globalThis.crypto.subtle) {
  const digest = new Uint8Array(await subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The file's name without folders: from the download's path, else the URL's last segment. */
export function baseName(filename, url) {
  const fromPath = String(filename ?? '').split(/[\\/]/).pop();
  if (fromPath) return fromPath.slice(0, 255);
  try {
    const last = new URL(url).pathname.split('/').pop();
    return decodeURIComponent(last || 'download').slice(0, 255);
  } catch {
    return 'download';
  }
}

/** The facts `POST /v1/files/check` takes. */
export function fileFacts({ sha256, size, filename, mime, url }) {
  return { sha256, size, filename: filename || 'download', mime: mime || 'application/octet-stream', source_url: url };
}

/** True when a download verdict means the file must go. */
export function mustRemove(verdict) {
  return verdict?.action === 'block';
}

/** A random id (URL-safe) for install ids and page tokens. */
export function randomToken(bytes = 16, random = globalThis.crypto) {
  const raw = random.getRandomValues(new Uint8Array(bytes));
  return Array.from(raw, (b) => b.toString(16).padStart(2, '0')).join('');
}
