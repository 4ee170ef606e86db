/**
 * `node dist/apps/gateway/src/healthcheck.js [path]` — the container's health check (Dockerfile
 * HEALTHCHECK, or a Kubernetes exec probe): asks this process's own HTTP port for `path`
 * (default /health/ready) and exits 0 on a 2xx answer, 1 otherwise. Over HTTPS when the gateway
 * serves HTTPS (SVU_TLS_CERT and SVU_TLS_KEY set), without checking the certificate: it is the
 * gateway's own, reached at 127.0.0.1 where its name cannot match. Plain Node, no Nest, so it starts
 * in a few tens of milliseconds.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HealthTarget {
  readonly url: string;
  readonly https: boolean;
}

/** Where the check asks: PORT (default 8080), https when both TLS files are set. */
export function healthTarget(env: NodeJS.ProcessEnv, path = '/health/ready'): HealthTarget {
  const port = env['PORT'] === undefined || env['PORT'] === '' ? '8080' : env['PORT'];
  const https = (env['SVU_TLS_CERT'] ?? '') !== '' && (env['SVU_TLS_KEY'] ?? '') !== '';
  return { url: `${https ? 'https' : 'http'}://127.0.0.1:${port}${path.startsWith('/') ? path : `/${path}`}`, https };
}

/** Resolves with the HTTP status, or rejects (connection refused, timeout). */
export function check(target: HealthTarget, timeoutMs = 2500): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = (target.https ? httpsRequest : httpRequest)(target.url, { method: 'GET', timeout: timeoutMs, ...(target.https ? { rejectUnauthorized: false } : {}) }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${target.url} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

if (require.main === module) {
  const target = healthTarget(process.env, process.argv[2]);
  check(target).then(
    (status) => {
      if (status < 200 || status > 299) process.stderr.write(`${target.url}: HTTP ${status}\n`);
      process.exit(status >= 200 && status <= 299 ? 0 : 1);
    },
    (error: Error) => {
      process.stderr.write(`${target.url}: ${error.message}\n`);
      process.exit(1);
    },
  );
}
