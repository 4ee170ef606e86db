import { applyDecorators, Catch, Controller, Logger, UseFilters, type RpcExceptionFilter } from '@nestjs/common';
import { BaseRpcContext, RpcException, Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import type { ConsumeMessage } from 'amqplib';
import { isObservable, lastValueFrom, of, type Observable } from 'rxjs';
import type { Broker, ConsumeOptions, Disposition } from './broker';
import { queueOfPattern } from './topology';

/** The payload of a message handler: a batch of messages from one queue, in the order they came. */
export type MessageBatch = readonly ConsumeMessage[];

/** What a message handler is told besides its batch: the queue it came from and the pattern that chose the handler. */
export class BrokerContext extends BaseRpcContext<[queue: string, pattern: string]> {
  getQueue(): string {
    return this.args[0];
  }

  getPattern(): string {
    return this.args[1];
  }
}

/** Options of a handler (`@EventPattern(pattern, { consume: {...} })`) that differ from the process's consume options. */
export interface MessageHandlerExtras {
  readonly consume?: Partial<ConsumeOptions>;
}

/**
 * What the exception filter decided for a batch whose handler failed: handed back to its queue
 * (after the consumer's pause; the message comes again) or dead-lettered at once.
 */
export class FailedBatch {
  constructor(
    readonly error: unknown,
    readonly disposition: 'requeue' | 'dead-letter',
  ) {}
}

/**
 * A message that can never be handled (refused by a pipe, say): the filter dead-letters its batch
 * at once instead of handing it back until the queue's delivery limit.
 */
export class UnprocessableMessage extends RpcException {}

/**
 * The exception filter of every message handler. A handler that throws has committed nothing of its
 * batch, so nothing of it is acknowledged: an `RpcException` (the message itself is wrong; coming
 * again would not help) dead-letters the batch, which the poison queue keeps as dead letters; any
 * other error (usually the store unreachable) hands the batch back after a pause that grows with
 * each failure in a row.
 */
@Catch()
export class BrokerExceptionFilter implements RpcExceptionFilter<unknown> {
  catch(exception: unknown): Observable<FailedBatch> {
    return of(new FailedBatch(exception, exception instanceof RpcException ? 'dead-letter' : 'requeue'));
  }
}

/** Marks a class whose `@EventPattern` methods handle queue messages, with the broker's exception filter. */
export function MessageController(): ClassDecorator {
  return applyDecorators(Controller(), UseFilters(BrokerExceptionFilter));
}

/**
 * Nest's microservices layer over the gateway's broker: every `@EventPattern(pattern)` handler in
 * the process gets the queue that pattern names, consumed in batches with the broker's prefetch,
 * manual acknowledgements and failure pause. The handler receives the batch as its payload (one
 * database transaction serves the batch) and returns what becomes of each message (`Disposition[]`,
 * in order), or nothing when all of them are done; the messages are acknowledged only after it has
 * returned, that is after its commit. Errors go through the handler's exception filter
 * (BrokerExceptionFilter), whose decision is applied here; an error no filter turned into a decision
 * hands the batch back like any other failure, so nothing uncommitted is ever acknowledged.
 * Interceptors, pipes and guards apply to message handlers as to HTTP ones.
 */
export class BrokerTransport extends Server implements CustomTransportStrategy {
  private readonly log = new Logger('BrokerTransport');

  constructor(
    private readonly broker: Broker,
    private readonly defaults: ConsumeOptions,
  ) {
    super();
  }

  /** Starts consuming the queue of every registered pattern; fails when a pattern names no queue of the gateway. */
  listen(callback: (error?: unknown) => void): void {
    this.consumeAll().then(() => callback(), callback);
  }

  private async consumeAll(): Promise<void> {
    for (const [pattern, handler] of this.messageHandlers) {
      const queue = queueOfPattern(this.broker.names, pattern);
      if (queue === undefined) throw new Error(`message handler for "${pattern}": the gateway consumes no such queue`);
      if (!handler.isEventHandler) throw new Error(`message handler for "${pattern}": queues take @EventPattern handlers (nothing answers a message)`);
      if (handler.next !== undefined) throw new Error(`message handler for "${pattern}": two handlers for one queue could not both decide its acknowledgements`);
      const extras = (handler.extras ?? {}) as MessageHandlerExtras;
      const options = { ...this.defaults, ...extras.consume };
      const context = new BrokerContext([queue, pattern]);
      await this.broker.consume(queue, options, (batch) => this.dispatch(handler, batch, context));
    }
  }

  /** Runs the handler (through Nest's pipes, interceptors and filters) and says what becomes of each message. */
  private async dispatch(handler: MessageHandler, batch: MessageBatch, context: BrokerContext): Promise<readonly Disposition[]> {
    // Awaited directly, not through an observable unless the handler or its filter answers with one:
    // that costs several times the handler call itself, once per batch.
    let outcome: unknown = await handler(batch, context);
    if (isObservable(outcome)) outcome = await lastValueFrom(outcome, { defaultValue: undefined });
    if (outcome instanceof FailedBatch) {
      // Thrown, the broker hands the batch back after its pause and logs it.
      if (outcome.disposition === 'requeue') throw outcome.error instanceof Error ? outcome.error : new Error(String(outcome.error));
      this.log.error({ queue: context.getQueue(), err: outcome.error instanceof Error ? outcome.error.message : String(outcome.error), count: batch.length }, 'batch dead-lettered');
      return batch.map(() => 'dead-letter');
    }
    if (outcome === undefined) return batch.map(() => 'ack');
    if (Array.isArray(outcome) && outcome.length === batch.length) return outcome as Disposition[];
    throw new Error(`the handler of ${context.getQueue()} returned neither nothing nor one disposition per message`);
  }

  on(): never {
    throw new Error('the broker transport has no events to listen to');
  }

  unwrap<T>(): T {
    return this.broker as T;
  }

  async close(): Promise<void> {
    await this.broker.stopConsuming();
  }
}
