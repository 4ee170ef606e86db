import express from 'express';
import { gzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { JSON_BODY_LIMIT, jsonBody } from './json-body';

describe('jsonBody: the console API’s JSON bodies', () => {
  let server: Server;
  let url: string;

  beforeAll(async () => {
    const app = express();
    app.use('/api', ...jsonBody());
    app.post('/api/echo', (req, res) => void res.json({ got: req.body as unknown }));
    server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/echo`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const post = async (body: string | Buffer | undefined, headers: Record<string, string> = { 'content-type': 'application/json' }) => {
    const res = await fetch(url, { method: 'POST', headers, ...(body === undefined ? {} : { body }) });
    return [res.status, await res.json()] as const;
  };

  it('passes an object on', async () => {
    expect(await post('{"reason":"åäö"}')).toEqual([200, { got: { reason: 'åäö' } }]);
  });

  it('refuses a body that is not JSON with 400 naming the body and where it stops, without repeating it', async () => {
    expect(await post('{"reason": secret}')).toEqual([
      400,
      { statusCode: 400, error: 'Bad Request', message: "the request body is not JSON: Unexpected token 's' at line 1 column 12", field: 'body' },
    ]);
  });

  it('refuses a JSON value that is not an object or array as the API refuses a body of the wrong shape', async () => {
    for (const body of ['null', '"text"', '12', 'true']) {
      expect(await post(body)).toEqual([400, { statusCode: 400, error: 'Bad Request', message: 'the request body must be a JSON object', field: 'body' }]);
    }
  });

  it('refuses a body over the limit with 413 naming it', async () => {
    const big = Buffer.from(`{"reason":"${'x'.repeat(JSON_BODY_LIMIT.bytes)}"}`);
    expect(await post(big)).toEqual([413, { statusCode: 413, error: 'Content Too Large', message: 'the request body is larger than 1 MiB', field: 'body' }]);
  });

  it('refuses a body sent as another content type instead of reading it as no body; a request without a body passes', async () => {
    const notJson = { statusCode: 415, error: 'Unsupported Media Type', message: 'the request body must be JSON, sent as Content-Type: application/json', field: 'body' };
    expect(await post('{"reason":"x"}', { 'content-type': 'text/plain' })).toEqual([415, notJson]);
    expect(await post('reason=x', { 'content-type': 'application/x-www-form-urlencoded' })).toEqual([415, notJson]);
    expect(await post(undefined, {})).toEqual([200, {}]); // no body: req.body stays undefined
  });

  it('refuses a compressed body (nothing is inflated) with 415 naming the body', async () => {
    expect(await post(gzipSync('{"reason":"x"}'), { 'content-type': 'application/json', 'content-encoding': 'gzip' })).toEqual([
      415,
      { statusCode: 415, error: 'Unsupported Media Type', message: 'the request body must not be compressed (no Content-Encoding)', field: 'body' },
    ]);
  });
});
