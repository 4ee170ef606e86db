import { answers, chooseSource, dockerAvailable } from './service-choice';

/** Containers this run started, stopped by containers.global-teardown.ts. */
const started: Array<{ stop(): Promise<unknown> }> = [];
(globalThis as { __svuContainers?: typeof started }).__svuContainers = started;

/**
 * Jest global set-up of the end-to-end project: when AMQP_URL / DATABASE_URL are unset, nothing answers
 * on 127.0.0.1:5672 / 5432 and Docker is available, starts RabbitMQ and PostgreSQL with testcontainers
 * and points the tests at them (AMQP_URL, DATABASE_URL, SVU_TEST_RABBITMQ_CONTAINER for rabbitmqctl).
 * SVU_TEST_CONTAINERS=0 turns it off. Otherwise the machine's services are used, as in CI.
 */
export default async function setup(): Promise<void> {
  const disabled = process.env['SVU_TEST_CONTAINERS'] === '0';
  const [amqpLocal, pgLocal] = await Promise.all([answers(5672), answers(5432)]);
  const amqp = { url: process.env['AMQP_URL'], answersLocally: amqpLocal };
  const pg = { url: process.env['DATABASE_URL'], answersLocally: pgLocal };
  const needed = [amqp, pg].some((p) => chooseSource(p, true, disabled) === 'container');
  const docker = needed && dockerAvailable();
  if (chooseSource(amqp, docker, disabled) === 'container') {
    const { RabbitMQContainer } = await import('@testcontainers/rabbitmq');
    const rabbit = await new RabbitMQContainer('rabbitmq:3.13-management').start();
    started.push(rabbit);
    process.env['AMQP_URL'] = rabbit.getAmqpUrl();
    process.env['SVU_TEST_RABBITMQ_CONTAINER'] = rabbit.getId();
    process.stderr.write(`e2e: RabbitMQ in a container (${rabbit.getAmqpUrl()}): nothing answers on 127.0.0.1:5672\n`);
  }
  if (chooseSource(pg, docker, disabled) === 'container') {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const postgres = await new PostgreSqlContainer('postgres:15').withDatabase('postgres').start();
    started.push(postgres);
    process.env['DATABASE_URL'] = postgres.getConnectionUri();
    process.stderr.write(`e2e: PostgreSQL in a container: nothing answers on 127.0.0.1:5432\n`);
  }
}
