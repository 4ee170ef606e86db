import { execFileSync } from 'node:child_process';
import { Socket } from 'node:net';

/**
 * Where the end-to-end tests find RabbitMQ and PostgreSQL. The machine's own services stay the
 * default and what CI uses; only where nothing answers locally, AMQP_URL / DATABASE_URL are unset and
 * Docker is available does the test support start them in containers (testcontainers).
 */
export type ServiceSource = 'env' | 'local' | 'container' | 'local-missing';

export interface ServiceProbe {
  /** AMQP_URL or DATABASE_URL as set (undefined: not set). */
  readonly url: string | undefined;
  /** Something answers on the local default port (5672, 5432). */
  readonly answersLocally: boolean;
}

/** The decision, for one service: a URL set wins; then a local service; then a container if Docker runs; else the local default (and its error). */
export function chooseSource(probe: ServiceProbe, dockerAvailable: boolean, disabled = false): ServiceSource {
  if (probe.url !== undefined && probe.url !== '') return 'env';
  if (probe.answersLocally) return 'local';
  if (dockerAvailable && !disabled) return 'container';
  return 'local-missing';
}

/** Whether a TCP connection to host:port opens within `timeoutMs`. */
export function answers(port: number, host = '127.0.0.1', timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host, () => done(true));
  });
}

/** Whether a Docker daemon answers (`docker info`); false without the docker command or a daemon. */
export function dockerAvailable(run: (cmd: string, args: string[]) => void = (cmd, args) => void execFileSync(cmd, args, { stdio: 'ignore', timeout: 10_000 })): boolean {
  try {
    run('docker', ['info', '--format', '{{.ServerVersion}}']);
    return true;
  } catch {
    return false;
  }
}
