import { createServer } from 'node:http';
import { RecipientSimulator, type Behaviour } from '../../simulator/src/recipient-simulator';
import { loadUnitDirectory } from './unit-directory';

/**
 * `svu simulate`: simulated recipients for every unit of a directory, until stopped, with a control
 * API: `POST /units/<hsaId>/behaviour` `{"mode": "accept" | "fail" | "timeout" | "down", "status"?, "delayMs"?}`
 * and `GET /received` (what arrived: unit, transport, message id, time, size).
 */
export async function runSimulate(options: { directoryPath: string; amqpUrl: string; topologyPrefix: string; controlPort: number; controlHost?: string }): Promise<void> {
  const directory = loadUnitDirectory(options.directoryPath);
  const simulator = new RecipientSimulator({ units: directory.units, amqpUrl: options.amqpUrl, amqpUrlSetting: '--amqp-url / AMQP_URL', topologyPrefix: options.topologyPrefix });
  await simulator.start();
  simulator.onReceive((r) => process.stdout.write(`${r.at.toISOString()} ${r.hsaId} ${r.via} ${r.messageId ?? '?'} ${r.bytes.length} bytes\n`));
  const control = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const match = /^\/units\/([^/]+)\/behaviour$/.exec(req.url ?? '');
      if (req.method === 'POST' && match !== null) {
        try {
          const behaviour = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Behaviour;
          if (!['accept', 'fail', 'timeout', 'down'].includes(behaviour.mode)) throw new Error('mode must be accept, fail, timeout or down');
          simulator.behave(decodeURIComponent(match[1]!), behaviour);
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ hsaId: decodeURIComponent(match[1]!), ...behaviour }));
        } catch (error) {
          res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: (error as Error).message }));
        }
        return;
      }
      if (req.method === 'GET' && req.url === '/received') {
        const list = simulator.received.map((r) => ({ hsaId: r.hsaId, via: r.via, messageId: r.messageId, at: r.at, bytes: r.bytes.length }));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(list));
        return;
      }
      res.writeHead(404).end();
    });
  });
  const controlHost = options.controlHost ?? '127.0.0.1';
  await new Promise<void>((resolve) => control.listen(options.controlPort, controlHost, () => resolve()));
  process.stdout.write(`simulating ${directory.size} units; control API on http://${controlHost}:${options.controlPort}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  control.close();
  await simulator.stop();
}
