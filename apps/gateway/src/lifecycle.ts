import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { SendersService } from './senders/senders.service';
import { Broker } from './broker/broker';
import { DirectoryService } from './directory/directory.service';
import { Database } from './store/database';
import { GATEWAY_CONFIG, type GatewayConfig } from './config/gateway-config';

/**
 * Brings the store, the broker and the directory up before any consumer starts (the broker transport
 * starts consuming after the application's init, see main.ts). Its module is global, so this runs
 * before the service modules' own onModuleInit.
 */
@Injectable()
export class Lifecycle implements OnModuleInit {
  constructor(
    private readonly db: Database,
    private readonly broker: Broker,
    private readonly directory: DirectoryService,
    private readonly modules: ModuleRef,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.db.whenReachable('migrations', () => this.db.migrate());
    await this.directory.start();
    // Ingress needs its senders to start; a console alone starts without them (it uses them to replay).
    await this.senders()?.start(this.config.services.has('ingress'));
    await this.broker.start();
    this.directory.onChange((directory) => {
      for (const unit of directory.units) {
        if (unit.transport.kind === 'amqp') void this.broker.ensureEgressQueue(unit.transport.routingKey);
      }
    });
  }

  /** The senders, in a process whose services accept messages (ingress, console). */
  private senders(): SendersService | undefined {
    try {
      return this.modules.get(SendersService, { strict: false });
    } catch {
      return undefined;
    }
  }
}
