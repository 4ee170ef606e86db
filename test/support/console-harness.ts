import type { INestApplication } from '@nestjs/common';
import type { DirectoryUnit } from '@svu/directory';
import type { Clock } from '../../apps/gateway/src/common/clock/clock';
import { loadConfig } from '../../apps/gateway/src/config/gateway-config';
import { startGateway } from '../../apps/gateway/src/main';
import { RecipientSimulator } from '../../apps/simulator/src/recipient-simulator';
import { OPERATOR, signIn, VIEWER, writeUsers } from './console-users';
import { gatewayEnv, writeDirectory } from './gateway-harness';
import { createTestServices, freePort, type TestServices } from './services';

/** An answer of the console API: JSON parsed, anything else as bytes. */
export interface ApiAnswer {
  status: number;
  headers: Headers;
  body: any;
}

/** One call of the gateway's HTTP API, signed in with `token` when given. */
export async function apiCall(base: string, method: string, path: string, token?: string, body?: unknown): Promise<ApiAnswer> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, headers: res.headers, body: type.includes('json') ? await res.json() : Buffer.from(await res.arrayBuffer()) };
}

/** A gateway with every service, its simulated HTTP recipients, and a viewer's and an operator's session. */
export interface ConsoleGateway {
  services: TestServices;
  simulator: RecipientSimulator;
  app: INestApplication;
  base: string;
  units: DirectoryUnit[];
  viewer: string;
  operator: string;
  close(): Promise<void>;
}

/**
 * Starts it: `units` gets the port the simulator will listen on (for the HTTP units' URLs); every
 * unit with an HTTP or AMQP transport is simulated. `settings` add to or override the test defaults.
 */
export async function startConsoleGateway(options: {
  name: string;
  units: (port: number) => DirectoryUnit[];
  settings?: Record<string, string>;
  clock?: Clock;
}): Promise<ConsoleGateway> {
  const services = await createTestServices(options.name);
  const units = options.units(await freePort());
  const simulator = new RecipientSimulator({ units: units.filter((u) => u.transport.kind !== 'none') });
  await simulator.start();
  const env = gatewayEnv(services, writeDirectory(units), { SVU_USERS: writeUsers(), SVU_DEADLINE_EVERY: 'PT1H', ...options.settings });
  const app = await startGateway(loadConfig(env), options.clock);
  const base = `http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`;
  return {
    services,
    simulator,
    app,
    base,
    units,
    viewer: await signIn(base, VIEWER),
    operator: await signIn(base, OPERATOR),
    close: async () => {
      await app.close();
      await simulator.stop();
      await services.cleanup();
    },
  };
}
