import { createServer, type Server } from 'node:net';
import { acceptsConnections } from './reachability';

describe('acceptsConnections', () => {
  let server: Server;
  let port: number;

  beforeAll(async () => {
    server = createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('is true where something listens and false where nothing does', async () => {
    expect(await acceptsConnections(`http://127.0.0.1:${port}/svu`, 1_000)).toBe(true);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const freed = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    expect(await acceptsConnections(`http://127.0.0.1:${freed}/svu`, 1_000)).toBe(false);
  });

  it('is false for what is not a URL', async () => {
    expect(await acceptsConnections('not a url', 1_000)).toBe(false);
  });
});
