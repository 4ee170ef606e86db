import type { ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServiceName } from '../apps/gateway/src/config/gateway-config';
import { spawnGateway } from '../test/support/gateway-harness';
import { writeTestSenders } from '../test/support/senders';
import { eventually, freePort, type TestServices } from '../test/support/services';

/**
 * Gateway services as separate processes (`SVU_SERVICES=<one>`), as a region would run them, with
 * the default settings except the log level (warn: the benchmarks measure the work, not the log
 * volume); logs and stderr go to $TMPDIR/svu-bench-logs.
 */
export class ServiceProcesses {
  private readonly children = new Map<string, ChildProcess>();
  readonly ports = new Map<string, number>();
  private sendersPath: string | undefined;

  constructor(
    private readonly services: TestServices,
    private readonly directoryPath: string,
    private readonly settings: Record<string, string> = {},
    /** The gateway's entry point; this checkout's build unless another version's is given. */
    private readonly main?: string,
  ) {}

  /** Starts a process running `service` (or several, comma-separated, as SVU_SERVICES takes them). */
  async start(service: ServiceName | `${ServiceName},${string}`, extra: Record<string, string> = {}): Promise<number> {
    const port = await freePort();
    this.ports.set(service, port);
    this.children.set(
      service,
      spawnGateway({
        AMQP_URL: this.services.amqpUrl,
        DATABASE_URL: this.services.databaseUrl,
        SVU_DIRECTORY: this.directoryPath,
        SVU_SENDERS: (this.sendersPath ??= writeTestSenders(this.directoryPath)),
        SVU_SERVICES: service,
        PORT: String(port),
        LOG_LEVEL: 'warn',
        SVU_LOG_FILE: join(tmpdir(), 'svu-bench-logs', `${this.services.name}-${service}.log`),
        ...this.settings,
        ...extra,
      }, this.main),
    );
    await eventually(async () => ((await fetch(`http://127.0.0.1:${port}/health/ready`).catch(() => undefined))?.ok ? true : undefined), 60_000, `${service} ready`);
    return port;
  }

  /** Process ids by service name, for memory sampling. */
  pids(): Map<string, number> {
    return new Map([...this.children].flatMap(([name, child]) => (child.pid === undefined ? [] : [[name, child.pid] as const])));
  }

  stopAll(): void {
    for (const child of this.children.values()) child.kill('SIGTERM');
    this.children.clear();
  }
}
