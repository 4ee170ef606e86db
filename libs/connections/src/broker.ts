import amqp, { type AmqpConnectionManager } from 'amqp-connection-manager';
import { connectionError } from './connections';

/** How long a command waits for RabbitMQ to answer before it gives up. */
export const BROKER_CONNECT_TIMEOUT_MS = 5_000;

/**
 * Connects to RabbitMQ at `url` for a command that cannot do without it (the replay, the simulator):
 * resolves once connected, and rejects at the first failed attempt, or when nothing answers within
 * `timeoutMs`, with one line naming the URL without its password (`connectionError`). A connection
 * that is up reconnects after a loss as amqp-connection-manager does.
 */
export async function connectBroker(url: string, options: { setting?: string; timeoutMs?: number } = {}): Promise<AmqpConnectionManager> {
  const timeoutMs = options.timeoutMs ?? BROKER_CONNECT_TIMEOUT_MS;
  // The socket's own timeout ends an attempt at a host that never answers, so that closing the
  // manager does not wait for the system's connect timeout (minutes) either.
  const connection = amqp.connect([url], { reconnectTimeInSeconds: 1, connectionOptions: { timeout: timeoutMs } });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs + 500);
      connection.once('connect', () => {
        clearTimeout(timer);
        resolve();
      });
      connection.once('connectFailed', ({ err }) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  } catch (error) {
    await connection.close().catch(() => undefined);
    throw connectionError('RabbitMQ', url, error, options.setting);
  }
  return connection;
}
