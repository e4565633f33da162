/** Requests over HTTPS that trust a test CA, on a fresh connection each, reporting the certificate served. */
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { readFileSync } from 'node:fs';

export interface HttpsAnswer {
  status: number;
  text: string;
  /** SHA-256 fingerprint of the leaf certificate the server presented. */
  fingerprint256: string;
}

export function httpsRequest(port: number, caFile: string, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', servername: 'localhost', port, method, path, ca: readFileSync(caFile), agent: false, headers }, (res) => {
      const fingerprint256 = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), fingerprint256 }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}
