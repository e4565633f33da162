/**
 * A throwaway PKI made with the real `openssl` program at test time: a root CA, an intermediate CA
 * and server certificates for localhost / 127.0.0.1 signed by the intermediate, so a certificate
 * file holds the chain (leaf then intermediate) as a real deployment's does. Clients trust the root.
 */
import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { run } from './realClientKit';

export interface Pki {
  dir: string;
  /** The root CA certificate clients are told to trust. */
  caFile: string;
  intermediateCert: string;
  intermediateKey: string;
}

export interface ServerCertificate {
  /** Leaf followed by the intermediate (PEM). */
  certFile: string;
  keyFile: string;
  /** SHA-256 fingerprint of the leaf, as node's peer certificate reports it. */
  fingerprint256: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const r = await run('openssl', args, { cwd, timeoutMs: 60_000 });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed: ${r.output}`);
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export async function makePki(dir: string): Promise<Pki> {
  await openssl(['req', '-x509', ...EC_KEY, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=keepdav test root CA', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  await openssl(['req', ...EC_KEY, '-keyout', 'int.key', '-out', 'int.csr', '-subj', '/CN=keepdav test intermediate CA'], dir);
  writeFileSync(join(dir, 'int.ext'), 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n');
  await openssl(['x509', '-req', '-in', 'int.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'int.pem', '-days', '2', '-extfile', 'int.ext'], dir);
  return { dir, caFile: join(dir, 'ca.pem'), intermediateCert: join(dir, 'int.pem'), intermediateKey: join(dir, 'int.key') };
}

/** A server certificate for localhost and 127.0.0.1, named `name` ("server" → server.pem / server.key). */
export async function makeServerCertificate(pki: Pki, name: string): Promise<ServerCertificate> {
  const { dir } = pki;
  await openssl(['req', ...EC_KEY, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=localhost (${name})`], dir);
  writeFileSync(join(dir, `${name}.ext`), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:localhost,IP:127.0.0.1\n');
  await openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', pki.intermediateCert, '-CAkey', pki.intermediateKey, '-CAcreateserial', '-out', `${name}.leaf.pem`, '-days', '2', '-extfile', `${name}.ext`], dir);
  const leaf = readFileSync(join(dir, `${name}.leaf.pem`), 'utf8');
  writeFileSync(join(dir, `${name}.pem`), leaf + readFileSync(pki.intermediateCert, 'utf8'));
  return { certFile: join(dir, `${name}.pem`), keyFile: join(dir, `${name}.key`), fingerprint256: new X509Certificate(leaf).fingerprint256 };
}
