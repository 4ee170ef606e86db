import { connect } from 'node:net';

/**
 * Whether something accepts TCP connections at an HTTP(S) URL's host and port within `timeoutMs`.
 * Nothing is sent: it only tells that a recipient that refused connections may be back, so that its
 * probe (a real delivery, which decides its health) need not wait out the probe backoff.
 */
export function acceptsConnections(url: string, timeoutMs: number): Promise<boolean> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return Promise.resolve(false);
  }
  const port = target.port === '' ? (target.protocol === 'https:' ? 443 : 80) : Number(target.port);
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: timeoutMs });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}
