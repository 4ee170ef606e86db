import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { Inject } from '@nestjs/common';
import type { ConsumeMessage } from 'amqplib';
import { Broker, type Disposition } from '../broker/broker';
import { INGRESS_DIALECTS } from '../broker/topology';
import { consumeOptions, GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';
import { IngressService } from './ingress.service';

/**
 * AMQP ingress: one queue per dialect (`svu.ingress.<dialect>`). A batch is stored in one transaction
 * and acknowledged after the commit; an invalid message is acknowledged too, as it is kept in the
 * dead-letter queue of the store with its problems.
 */
@Injectable()
export class IngressConsumer implements OnApplicationBootstrap {
  constructor(
    private readonly broker: Broker,
    private readonly ingress: IngressService,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    for (const dialect of INGRESS_DIALECTS) {
      await this.broker.consume(
        this.broker.names.ingressQueue(dialect),
        consumeOptions(this.config),
        async (messages: readonly ConsumeMessage[]): Promise<Disposition[]> => {
          await this.ingress.acceptMany(messages.map((m) => ({ format: dialect, bytes: m.content, via: 'amqp' })));
          return messages.map(() => 'ack');
        },
      );
    }
  }
}
