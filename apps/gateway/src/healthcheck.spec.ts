import { createServer as createHttp, type Server } from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo } from 'node:net';
import { testCa } from '../../../test/support/tls';
import { check, healthTarget } from './healthcheck';

describe('the container health check', () => {
  it('asks PORT over HTTP, or over HTTPS when the gateway serves HTTPS (both TLS files set)', () => {
    expect(healthTarget({})).toEqual({ url: 'http://127.0.0.1:8080/health/ready', https: false });
    expect(healthTarget({ PORT: '9443', SVU_TLS_CERT: '/etc/svu/tls/tls.crt', SVU_TLS_KEY: '/etc/svu/tls/tls.key' }, '/health/live')).toEqual({ url: 'https://127.0.0.1:9443/health/live', https: true });
    expect(healthTarget({ SVU_TLS_CERT: '/etc/svu/tls/tls.crt', SVU_TLS_KEY: '' }).https).toBe(false);
  });

  const serve = async (server: Server, answer: number) => {
    server.on('request', (req, res) => res.writeHead(req.url === '/health/ready' ? answer : 404).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  };

  it('reports the status over HTTP and over HTTPS with the server certificate of another name', async () => {
    const ca = testCa('healthcheck');
    const server = ca.issue('server', '/CN=gateway.region.example');
    const plain = createHttp();
    const tls = createHttps({ cert: server.cert, key: server.key });
    try {
      const httpPort = await serve(plain, 200);
      const httpsPort = await serve(tls, 503);
      expect(await check(healthTarget({ PORT: String(httpPort) }))).toBe(200);
      expect(await check(healthTarget({ PORT: String(httpsPort), SVU_TLS_CERT: server.certPath, SVU_TLS_KEY: server.keyPath }))).toBe(503);
      // Plain HTTP against the HTTPS port is not an answer.
      await expect(check(healthTarget({ PORT: String(httpsPort) }), 1000)).rejects.toThrow();
    } finally {
      plain.close();
      tls.close();
    }
  });
});
