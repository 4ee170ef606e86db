import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { request } from 'node:https';

/** A certificate and its key, as files and as PEM. */
export interface Issued {
  readonly certPath: string;
  readonly keyPath: string;
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly fingerprint256: string;
  /** The subject as node writes it, attributes joined by ', ' (the form docs/senders.md uses). */
  readonly subject: string;
}

export interface TestCa {
  readonly dir: string;
  readonly ca: Issued;
  /** Issues a certificate signed by this CA, for a server (`127.0.0.1` as its address) or a client. */
  issue(name: string, subject: string): Issued;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
}

function issued(dir: string, name: string): Issued {
  const cert = readFileSync(join(dir, `${name}.crt`));
  const x509 = new X509Certificate(cert);
  return {
    certPath: join(dir, `${name}.crt`),
    keyPath: join(dir, `${name}.key`),
    cert,
    key: readFileSync(join(dir, `${name}.key`)),
    fingerprint256: x509.fingerprint256,
    subject: x509.subject.split('\n').join(', '),
  };
}

/** A throw-away certificate authority for one test run (openssl, P-256 keys, valid for a day). */
export function testCa(label: string): TestCa {
  const dir = mkdtempSync(join(tmpdir(), `svu-pki-${label}-`));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', `/CN=SVU test CA ${label}`], dir);
  return {
    dir,
    ca: issued(dir, 'ca'),
    issue(name, subject) {
      openssl(['req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject], dir);
      const ext = join(dir, `${name}.ext`);
      execFileSync('sh', ['-c', `printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > '${ext}'`]);
      openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', ext], dir);
      return issued(dir, name);
    },
  };
}

/** POSTs over HTTPS trusting `ca`, with a client certificate when given; the status and the JSON answer. */
export function postHttps(
  url: string,
  body: Buffer,
  options: { ca: Buffer; client?: Issued; headers?: Record<string, string> },
): Promise<{ status: number; json: Record<string, any> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        ca: options.ca,
        ...(options.client === undefined ? {} : { cert: options.client.cert, key: options.client.key }),
        headers: { 'content-length': String(body.length), ...options.headers },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, json: text === '' ? {} : (JSON.parse(text) as Record<string, any>) });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
