import { Injectable } from '@nestjs/common';
import { Inject } from '@nestjs/common';
import { CONTENT_TYPES, httpOutcome, type AttemptOutcome } from '@svu/delivery';
import type { Format } from '@svu/dialects';
import type { DirectoryUnit } from '@svu/directory';
import { Broker } from '../broker/broker';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config/gateway-config';

/** One copy on its way out. */
export interface Outgoing {
  readonly copyId: string;
  readonly messageId: string;
  readonly recipientHsa: string;
  readonly dialect: Format;
  readonly payload: Buffer;
}

/**
 * Delivery over the recipient's transport: HTTP POST (2xx = delivered), or AMQP publish with
 * publisher confirm to the recipient's routing key (confirmed = delivered). Every attempt carries
 * the message id and an idempotency key, so a recipient can recognise a repeat after a crash.
 */
@Injectable()
export class Transports {
  constructor(
    private readonly broker: Broker,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  async deliver(transport: DirectoryUnit['transport'], out: Outgoing): Promise<AttemptOutcome> {
    const idempotencyKey = `${out.messageId}/${out.recipientHsa}`;
    switch (transport.kind) {
      case 'http':
        try {
          const response = await fetch(transport.url, {
            method: 'POST',
            body: out.payload,
            headers: {
              'content-type': CONTENT_TYPES[out.dialect],
              'x-svu-message-id': out.messageId,
              'idempotency-key': idempotencyKey,
            },
            signal: AbortSignal.timeout(this.config.deliveryTimeoutMs),
          });
          await response.arrayBuffer().catch(() => undefined);
          return httpOutcome(response.status);
        } catch (error) {
          return { kind: 'retry', error: describeFetchError(error) };
        }
      case 'amqp':
        try {
          await this.broker.ensureEgressQueue(transport.routingKey);
          await this.broker.publish(this.broker.names.egressExchange, transport.routingKey, out.payload, {
            messageId: out.messageId,
            contentType: CONTENT_TYPES[out.dialect],
            headers: { 'x-svu-recipient': out.recipientHsa, 'idempotency-key': idempotencyKey },
          });
          return { kind: 'delivered' };
        } catch (error) {
          return { kind: 'retry', error: `AMQP: ${(error as Error).message}` };
        }
      case 'none':
        return { kind: 'permanent', error: 'the recipient has no electronic route' };
    }
  }
}

function describeFetchError(error: unknown): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return 'timed out';
  return e.cause?.code ?? e.cause?.message ?? e.message ?? 'request failed';
}
