import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import type { HttpTransport } from '@svu/directory';

/** How long secrets and certificates read for a unit are used before they are read again (rotation). */
const REREAD_MS = 30_000;

/** What the gateway presents to an HTTP recipient: an Authorization header, and for TLS an agent with its client certificate and CA. */
export type Presented = { readonly ok: true; readonly authorization?: string; readonly agent?: Agent } | { readonly ok: false; readonly error: string };

/**
 * The credentials of HTTP recipients, read from the files and environment variables the directory
 * names (never from the directory itself), kept in memory for REREAD_MS so that a rotated secret
 * is taken up without a restart. Errors name the file or variable, never a secret.
 */
export class RecipientCredentials {
  private readonly cache = new Map<string, { readonly at: number; readonly presented: Presented }>();

  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {}

  for(transport: HttpTransport, now = performance.now()): Presented {
    if (transport.auth === undefined && transport.tls === undefined) return { ok: true };
    const key = JSON.stringify([transport.auth, transport.tls]);
    const cached = this.cache.get(key);
    if (cached !== undefined && now - cached.at < REREAD_MS) return cached.presented;
    const presented = this.read(transport, cached?.presented);
    this.cache.set(key, { at: now, presented });
    return presented;
  }

  private read(transport: HttpTransport, before: Presented | undefined): Presented {
    try {
      const auth = transport.auth;
      let authorization: string | undefined;
      if (auth?.bearerTokenFile !== undefined || auth?.bearerTokenEnv !== undefined) {
        authorization = `Bearer ${this.secret(auth.bearerTokenFile, auth.bearerTokenEnv)}`;
      } else if (auth !== undefined) {
        const user = this.secret(auth.usernameFile, auth.usernameEnv);
        const password = this.secret(auth.passwordFile, auth.passwordEnv);
        authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
      }
      const tls = transport.tls;
      let agent: Agent | undefined;
      if (tls !== undefined) {
        const files = {
          ...(tls.certFile === undefined ? {} : { cert: readFileSync(tls.certFile) }),
          ...(tls.keyFile === undefined ? {} : { key: readFileSync(tls.keyFile) }),
          ...(tls.caFile === undefined ? {} : { ca: readFileSync(tls.caFile) }),
        };
        // The same files: the same agent and its open connections. Another agent's idle connections
        // close after a minute (an agent is not destroyed: a delivery may be using it).
        const previous = before?.ok === true ? before.agent : undefined;
        const same = previous !== undefined && (['cert', 'key', 'ca'] as const).every((k) => sameBytes(previous.options[k], files[k]));
        agent = same ? previous : new Agent({ keepAlive: true, timeout: 60_000, ...files });
      }
      return { ok: true, ...(authorization === undefined ? {} : { authorization }), ...(agent === undefined ? {} : { agent }) };
    } catch (error) {
      return { ok: false, error: (error as Error).message };
    }
  }

  /** A secret from a file (trailing newline dropped) or an environment variable. */
  private secret(file: string | undefined, env: string | undefined): string {
    if (file !== undefined) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        throw new Error(`credential file ${file} unreadable (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
      }
      const value = text.replace(/\r?\n$/, '');
      if (value === '') throw new Error(`credential file ${file} is empty`);
      return value;
    }
    const value = env === undefined ? undefined : this.env[env];
    if (value === undefined || value === '') throw new Error(`environment variable ${env ?? '?'} with a credential is not set`);
    return value;
  }

  /** Closes the agents' connections (at shutdown). */
  close(): void {
    for (const { presented } of this.cache.values()) if (presented.ok) presented.agent?.destroy();
    this.cache.clear();
  }
}

function sameBytes(a: unknown, b: Buffer | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return Buffer.isBuffer(a) && a.equals(b);
}
