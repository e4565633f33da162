// Runs calls of the `webdav` npm client (v5, ESM-only, so not loadable inside jest's CommonJS
// runtime) in a child node process and prints their outcomes as one JSON line.
//
//   echo '[{"call":"putFileContents","args":["/a.txt","hi"]}, ...]' | node webdavClientDriver.mjs URL
//
// (the calls come on standard input: file contents may be larger than a command line).
// An argument {"$base64": "..."} becomes a Buffer; a Buffer or ArrayBuffer result comes back as
// {"$base64": "..."}. Each outcome is {"ok": true, "value": ...} or {"ok": false, "status", "message"}.
// An optional second argument (JSON) is passed to createClient as its options.
import { createClient } from 'webdav';

const [url, optionsJson] = process.argv.slice(2);
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const callsJson = Buffer.concat(chunks).toString('utf8');
const client = createClient(url, optionsJson ? JSON.parse(optionsJson) : {});

function decode(value) {
  if (Array.isArray(value)) return value.map(decode);
  if (value && typeof value === 'object') {
    if (typeof value.$base64 === 'string') return Buffer.from(value.$base64, 'base64');
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decode(v)]));
  }
  return value;
}

function encode(value) {
  if (Buffer.isBuffer(value)) return { $base64: value.toString('base64') };
  if (value instanceof ArrayBuffer) return { $base64: Buffer.from(value).toString('base64') };
  if (Array.isArray(value)) return value.map(encode);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encode(v)]));
  return value;
}

const outcomes = [];
for (const { call, args = [] } of JSON.parse(callsJson)) {
  try {
    if (typeof client[call] !== 'function') throw new Error(`no such client method: ${call}`);
    const value = await client[call](...decode(args));
    outcomes.push({ ok: true, value: encode(value === undefined ? null : value) });
  } catch (error) {
    let body;
    try {
      body = error?.response && typeof error.response.text === 'function' ? await error.response.text() : undefined;
    } catch {
      body = undefined;
    }
    outcomes.push({ ok: false, status: error?.status ?? error?.response?.status ?? null, message: String(error?.message ?? error), body });
  }
}
process.stdout.write(`${JSON.stringify(outcomes)}\n`);
