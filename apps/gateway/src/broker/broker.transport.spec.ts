import 'reflect-metadata';
import { Module, UseInterceptors, type CallHandler, type ExecutionContext, type INestMicroservice, type NestInterceptor, type Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import type { ConsumeMessage } from 'amqplib';
import type { Observable } from 'rxjs';
import type { Broker, ConsumeOptions, Disposition } from './broker';
import { BrokerContext, BrokerTransport, MessageController, UnprocessableMessage, type MessageBatch } from './broker.transport';
import type { RouteJob } from './jobs';
import { JobsPipe } from './jobs.pipe';
import { topologyNames } from './topology';

type Handle = (messages: readonly ConsumeMessage[]) => Promise<readonly Disposition[]>;

/** Records what the transport consumes; the test hands batches to the handle functions itself. */
class FakeBroker {
  readonly names = topologyNames('svu');
  readonly consumed = new Map<string, { options: ConsumeOptions; handle: Handle }>();
  stopped = false;

  consume(queue: string, options: ConsumeOptions, handle: Handle): Promise<void> {
    this.consumed.set(queue, { options, handle });
    return Promise.resolve();
  }

  stopConsuming(): Promise<void> {
    this.stopped = true;
    return Promise.resolve();
  }
}

const DEFAULTS: ConsumeOptions = { prefetch: 200, batchSize: 50, batchWaitMs: 20, concurrency: 2 };

function message(content: string): ConsumeMessage {
  return { content: Buffer.from(content), fields: { routingKey: 'route' }, properties: { headers: {} } } as unknown as ConsumeMessage;
}

const seen: Array<{ queue: string; pattern: string; count: number }> = [];
let behaviour: 'ok' | 'throw' | 'refuse' | 'dispositions' | 'wrong count' = 'ok';

class Intercepted implements NestInterceptor {
  static batches: number[] = [];
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    Intercepted.batches.push(context.switchToRpc().getData<MessageBatch>().length);
    return next.handle();
  }
}

@MessageController()
class RouteLike {
  @EventPattern('route')
  @UseInterceptors(Intercepted)
  handle(@Payload() messages: MessageBatch, @Ctx() context: BrokerContext): Disposition[] | undefined {
    seen.push({ queue: context.getQueue(), pattern: context.getPattern(), count: messages.length });
    switch (behaviour) {
      case 'ok':
        return undefined;
      case 'throw':
        throw new Error('store unreachable');
      case 'refuse':
        throw new UnprocessableMessage('not a job');
      case 'dispositions':
        return messages.map((_, i) => (i === 0 ? 'requeue' : 'ack'));
      case 'wrong count':
        return ['ack'];
    }
  }
}

@MessageController()
class IngressLike {
  @EventPattern(['ingress.lifecare', 'ingress.samsa'], { consume: { concurrency: 1, batchSize: 7 } })
  async handle(@Payload(new JobsPipe('route')) jobs: Array<RouteJob | undefined>, @Ctx() context: BrokerContext): Promise<Disposition[]> {
    seen.push({ queue: context.getQueue(), pattern: context.getPattern(), count: jobs.length });
    return Promise.resolve(jobs.map((job) => (job === undefined ? 'dead-letter' : 'ack')));
  }
}

@MessageController()
class Misnamed {
  @EventPattern('rout')
  handle(): void {}
}

async function start(controllers: Type[]): Promise<{ app: INestMicroservice; broker: FakeBroker }> {
  @Module({ controllers })
  class TestModule {}
  const broker = new FakeBroker();
  const app = await NestFactory.createMicroservice(TestModule, { strategy: new BrokerTransport(broker as unknown as Broker, DEFAULTS), logger: false });
  await app.listen();
  return { app, broker };
}

describe('BrokerTransport', () => {
  let app: INestMicroservice | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
    seen.length = 0;
    Intercepted.batches = [];
    behaviour = 'ok';
  });

  it('consumes the queue of each pattern that has a handler, and no other', async () => {
    const started = await start([RouteLike]);
    app = started.app;
    expect([...started.broker.consumed.keys()]).toEqual(['svu.route']);
    expect(started.broker.consumed.get('svu.route')!.options).toEqual(DEFAULTS);
  });

  it('gives a handler of several patterns each queue, with the options of the handler over the defaults, and tells it which queue', async () => {
    const started = await start([IngressLike]);
    app = started.app;
    expect([...started.broker.consumed.keys()].sort()).toEqual(['svu.ingress.lifecare', 'svu.ingress.samsa']);
    expect(started.broker.consumed.get('svu.ingress.samsa')!.options).toEqual({ ...DEFAULTS, concurrency: 1, batchSize: 7 });
    await started.broker.consumed.get('svu.ingress.samsa')!.handle([message('{"messagePks":["1"]}')]);
    expect(seen).toEqual([{ queue: 'svu.ingress.samsa', pattern: 'ingress.samsa', count: 1 }]);
  });

  it('acknowledges a batch once its handler has returned, and runs interceptors on the batch', async () => {
    const started = await start([RouteLike]);
    app = started.app;
    const dispositions = await started.broker.consumed.get('svu.route')!.handle([message('a'), message('b')]);
    expect(dispositions).toEqual(['ack', 'ack']);
    expect(Intercepted.batches).toEqual([2]);
  });

  it('applies the dispositions a handler returns, one per message', async () => {
    const started = await start([RouteLike]);
    app = started.app;
    behaviour = 'dispositions';
    expect(await started.broker.consumed.get('svu.route')!.handle([message('a'), message('b')])).toEqual(['requeue', 'ack']);
  });

  it('acknowledges nothing of a batch whose handler failed: the broker hands it back after its pause', async () => {
    const started = await start([RouteLike]);
    app = started.app;
    behaviour = 'throw';
    await expect(started.broker.consumed.get('svu.route')!.handle([message('a')])).rejects.toThrow('store unreachable');
    // The consumer goes on with the next batch.
    behaviour = 'ok';
    expect(await started.broker.consumed.get('svu.route')!.handle([message('b')])).toEqual(['ack']);
  });

  it('dead-letters a batch whose handler refused it as unprocessable', async () => {
    const started = await start([RouteLike]);
    app = started.app;
    behaviour = 'refuse';
    expect(await started.broker.consumed.get('svu.route')!.handle([message('a'), message('b')])).toEqual(['dead-letter', 'dead-letter']);
  });

  it('acknowledges nothing when a handler answers with the wrong number of dispositions', async () => {
    const started = await start([RouteLike]);
    app = started.app;
    behaviour = 'wrong count';
    await expect(started.broker.consumed.get('svu.route')!.handle([message('a'), message('b')])).rejects.toThrow('one disposition per message');
  });

  it('runs pipes on the batch: a message that is not a job is dead-lettered by the handler, the others acknowledged', async () => {
    const started = await start([IngressLike]);
    app = started.app;
    expect(await started.broker.consumed.get('svu.ingress.lifecare')!.handle([message('{"messagePks":["1"]}'), message('not json')])).toEqual(['ack', 'dead-letter']);
  });

  it('refuses to start with a pattern that names no queue of the gateway', async () => {
    await expect(start([Misnamed])).rejects.toThrow('"rout": the gateway consumes no such queue');
  });

  it('stops consuming when the application closes', async () => {
    const started = await start([RouteLike]);
    await started.app.close();
    expect(started.broker.stopped).toBe(true);
  });
});
