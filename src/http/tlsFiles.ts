/**
 * `--tls-cert` / `--tls-key`: reads and checks a PEM certificate (the intermediate chain may follow
 * it in the same file) and its private key, so that a wrong file is one clear error naming it, at
 * start and on reload, never a stack trace from deep inside node:tls.
 */
import { readFileSync } from 'node:fs';
import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { ConfigError, type TlsFiles } from '../config';

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  /** The served (first) certificate's SHA-256 fingerprint, "AB:CD:…". */
  fingerprint256: string;
}

function readFile(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not readable (permission denied)' : code === 'EISDIR' ? 'is a directory' : `cannot be read (${code ?? 'error'})`;
    throw new ConfigError(`the TLS ${what} ${file} ${why}`);
  }
}

/** Reads both files and checks that they are PEM and belong together; throws ConfigError naming the file. */
export function readTlsFiles(files: TlsFiles): TlsMaterial {
  const cert = readFile(files.certFile, 'certificate');
  const key = readFile(files.keyFile, 'key');
  if (!cert.includes('-----BEGIN CERTIFICATE-----')) throw new ConfigError(`the TLS certificate ${files.certFile} is not a PEM certificate (no "BEGIN CERTIFICATE" block)`);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch {
    throw new ConfigError(`the TLS certificate ${files.certFile} is not a valid PEM certificate`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new ConfigError(`the TLS key ${files.keyFile} is not a PEM private key (or is protected by a passphrase)`);
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new ConfigError(`the TLS certificate ${files.certFile} does not match the key ${files.keyFile}`);
  }
  try {
    createSecureContext({ cert, key });
  } catch (err) {
    throw new ConfigError(`the TLS certificate ${files.certFile} and key ${files.keyFile} cannot be used: ${(err as Error).message}`);
  }
  return { cert, key, fingerprint256: certificate.fingerprint256 };
}
