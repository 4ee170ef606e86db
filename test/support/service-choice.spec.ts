import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { answers, chooseSource, dockerAvailable } from './service-choice';

describe('where the end-to-end tests find RabbitMQ and PostgreSQL', () => {
  it.each([
    // url set | answers locally | Docker | disabled | source
    ['amqp://ci-rabbit', false, true, false, 'env'],
    ['postgres://ci/postgres', true, true, false, 'env'],
    [undefined, true, true, false, 'local'],
    [undefined, true, false, false, 'local'],
    [undefined, false, true, false, 'container'],
    ['', false, true, false, 'container'],
    [undefined, false, true, true, 'local-missing'],
    [undefined, false, false, false, 'local-missing'],
  ] as const)('url %s, local %s, Docker %s, SVU_TEST_CONTAINERS=0 %s: %s', (url, answersLocally, docker, disabled, source) => {
    expect(chooseSource({ url, answersLocally }, docker, disabled)).toBe(source);
  });

  it('sees whether something answers on a port', async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    expect(await answers(port)).toBe(true);
    await new Promise((resolve) => server.close(resolve));
    expect(await answers(port, '127.0.0.1', 500)).toBe(false);
  });

  it('takes Docker as available only when `docker info` succeeds', () => {
    const calls: string[][] = [];
    expect(dockerAvailable((cmd, args) => void calls.push([cmd, ...args]))).toBe(true);
    expect(calls).toEqual([['docker', 'info', '--format', '{{.ServerVersion}}']]);
    expect(dockerAvailable(() => {
      throw new Error('Cannot connect to the Docker daemon');
    })).toBe(false);
  });
});
