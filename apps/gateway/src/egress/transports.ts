import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { request, type Agent } from 'node:https';
import { RecipientCredentials } from './recipient-credentials';
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
export class Transports implements OnModuleDestroy {
  private readonly credentials = new RecipientCredentials();

  constructor(
    private readonly broker: Broker,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  onModuleDestroy(): void {
    this.credentials.close();
  }

  async deliver(transport: DirectoryUnit['transport'], out: Outgoing): Promise<AttemptOutcome> {
    // The copy's own id makes the key unique: message ids are unique per sender system only, so two
    // systems' messages under one id must not look like a repeat to a recipient that honours the key.
    const idempotencyKey = `${out.messageId}/${out.recipientHsa}/${out.copyId}`;
    switch (transport.kind) {
      case 'http': {
        // Credentials as the directory names them (docs/recipients.md); a missing one is retried, as
        // an operator can put it in place, and named in the error without its value.
        const presented = this.credentials.for(transport);
        if (!presented.ok) return { kind: 'retry', error: presented.error };
        const headers: Record<string, string> = {
          'content-type': CONTENT_TYPES[out.dialect],
          'x-svu-message-id': out.messageId,
          'idempotency-key': idempotencyKey,
          ...(presented.authorization === undefined ? {} : { authorization: presented.authorization }),
        };
        try {
          if (presented.agent !== undefined) return httpOutcome(await postWithAgent(transport.url, out.payload, headers, presented.agent, this.config.deliveryTimeoutMs));
          const response = await fetch(transport.url, {
            method: 'POST',
            body: out.payload,
            headers,
            signal: AbortSignal.timeout(this.config.deliveryTimeoutMs),
          });
          await response.arrayBuffer().catch(() => undefined);
          return httpOutcome(response.status);
        } catch (error) {
          return { kind: 'retry', error: describeFetchError(error) };
        }
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

/** POSTs over HTTPS through `agent` (which holds the client certificate and the CA); resolves with the status. */
function postWithAgent(url: string, body: Buffer, headers: Record<string, string>, agent: Agent, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { ...headers, 'content-length': String(body.length) }, signal: AbortSignal.timeout(timeoutMs) }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

function describeFetchError(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (typeof code === 'string' && code !== 'ABORT_ERR') return code;
  const e = error as { name?: string; message?: string; cause?: { name?: string; code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.cause?.name === 'TimeoutError') return 'timed out';
  return e.cause?.code ?? e.cause?.message ?? e.message ?? 'request failed';
}
