import { connect, createServer, type Server, type Socket } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import type { DirectoryUnit } from '@svu/directory';
import { gatewayEnv, startInProcess, writeDirectory } from '../support/gateway-harness';
import { createTestServices, freePort, type TestServices } from '../support/services';

/**
 * A process started while PostgreSQL is unreachable (down, restarting) waits for it for up to
 * SVU_START_WAIT and comes up with it, instead of exiting: a service restarted during a database
 * restart (the chaos suite does both) would otherwise stay down where nothing restarts it.
 */

let services: TestServices;
let directoryPath: string;
const apps: INestApplication[] = [];
const proxies: Server[] = [];

beforeAll(async () => {
  services = await createTestServices('start_wait');
  const unit: DirectoryUnit = { hsaId: 'SE2120000016-WAIT', name: 'Väntan', role: 'municipal-health-care', dialect: 'samsa', transport: { kind: 'none' } };
  directoryPath = writeDirectory([unit]);
}, 60_000);

afterAll(async () => {
  for (const app of apps) await app.close();
  for (const proxy of proxies) await new Promise((resolve) => proxy.close(resolve));
  await services?.cleanup();
}, 60_000);

/** The database's URL through `port`, where nothing listens until a proxy is opened there. */
function through(port: number): string {
  const url = new URL(services.databaseUrl);
  url.port = String(port);
  return url.toString();
}

/** A TCP proxy on `port` to the real PostgreSQL: the database "comes back". */
async function openProxy(port: number): Promise<void> {
  const target = new URL(services.databaseUrl);
  const sockets = new Set<Socket>();
  const proxy = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
  });
  proxy.on('close', () => sockets.forEach((s) => s.destroy()));
  await new Promise<void>((resolve) => proxy.listen(port, '127.0.0.1', resolve));
  proxies.push(proxy);
}

it('waits for a database that is not there yet and comes up when it is', async () => {
  const port = await freePort();
  const started = startInProcess(gatewayEnv(services, directoryPath, { DATABASE_URL: through(port), SVU_START_WAIT: 'PT60S', SVU_SERVICES: 'ingress,router,egress,deadlines,console' }));
  let settled = false;
  void started.then(() => (settled = true), () => (settled = true));
  await new Promise((resolve) => setTimeout(resolve, 3_000));
  // Still waiting, not failed.
  expect(settled).toBe(false);
  await openProxy(port);
  const gateway = await started;
  apps.push(gateway.app);
  const ready = await fetch(`${gateway.url}/health/ready`);
  expect(ready.status).toBe(200);
  expect(await ready.json()).toMatchObject({ database: true });
}, 90_000);

it('fails the start, naming the cause, once SVU_START_WAIT is spent', async () => {
  const port = await freePort();
  const begun = Date.now();
  await expect(startInProcess(gatewayEnv(services, directoryPath, { DATABASE_URL: through(port), SVU_START_WAIT: 'PT2S' }))).rejects.toThrow(/ECONNREFUSED/);
  expect(Date.now() - begun).toBeGreaterThanOrEqual(1_000);
  expect(Date.now() - begun).toBeLessThan(15_000);
}, 60_000);
