import { Inject, Injectable, Logger, Optional, type OnModuleInit } from '@nestjs/common';
import { GATEWAY_CONFIG, type GatewayConfig } from './config/gateway-config';
import { readableByOthers } from './config/file-mode';
import { SendersService } from './senders/senders.service';
import { Broker } from './broker/broker';
import { DirectoryService } from './directory/directory.service';
import { Database } from './store/database';

/**
 * Brings the store, the broker and the directory up before any consumer starts (consumers start in
 * onApplicationBootstrap, which Nest runs after every onModuleInit has finished).
 */
@Injectable()
export class Lifecycle implements OnModuleInit {
  private readonly logger = new Logger(Lifecycle.name);

  constructor(
    private readonly db: Database,
    private readonly broker: Broker,
    private readonly directory: DirectoryService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Optional() private readonly senders?: SendersService,
  ) {}

  async onModuleInit(): Promise<void> {
    if (this.config.services.has('console') && readableByOthers(this.config.usersPath)) {
      this.logger.warn({ path: this.config.usersPath }, 'users file is readable by every user of this machine; chmod o-r it (it holds password hashes)');
    }
    await this.db.migrate();
    await this.directory.start();
    await this.senders?.start();
    await this.broker.start();
    this.directory.onChange((directory) => {
      for (const unit of directory.units) {
        if (unit.transport.kind === 'amqp') void this.broker.ensureEgressQueue(unit.transport.routingKey);
      }
    });
  }
}
