import { checkJob, decodeJob, encodeJob } from './jobs';

const check = (kind: 'route' | 'deliver', text: string) => checkJob(Buffer.from(text), kind);
const STORE_KEY = "must be a store key: a row's primary key (a positive bigint) in decimal digits";

describe('jobs (schemas/jobs.schema.json)', () => {
  it('reads back what the stages publish', () => {
    expect(decodeJob(encodeJob({ messagePks: ['1', '42'] }), 'route')).toEqual({ messagePks: ['1', '42'] });
    const deliver = { copies: [{ copyId: '7', attempt: 0 }, { copyId: '8', attempt: 3, deferrals: 2 }] };
    expect(decodeJob(encodeJob(deliver), 'deliver')).toEqual(deliver);
  });

  it('ignores keys a later version adds', () => {
    expect(check('route', '{"messagePks":["1"],"priority":"high"}')).toEqual({ ok: true, job: { messagePks: ['1'], priority: 'high' } });
  });

  it('refuses a key that is not a store key, naming the field, so that it cannot fail the statement of its batch', () => {
    expect(check('route', '{"messagePks":["12","abc"]}')).toEqual({ ok: false, problem: `not a route job: messagePks[1]: ${STORE_KEY}` });
    expect(check('route', '{"messagePks":["99999999999999999999"]}')).toEqual({ ok: false, problem: `not a route job: messagePks[0]: ${STORE_KEY}` });
    expect(check('route', '{"messagePks":["007"]}')).toEqual({ ok: false, problem: `not a route job: messagePks[0]: ${STORE_KEY}` });
    expect(check('route', '{"messagePks":[12]}')).toEqual({ ok: false, problem: 'not a route job: messagePks[0]: must be a string' });
    expect(check('deliver', '{"copies":[{"copyId":"x","attempt":"y"}]}')).toEqual({
      ok: false,
      problem: `not a deliver job: copies[0].copyId: ${STORE_KEY}; copies[0].attempt: must be an integer`,
    });
    expect(check('deliver', '{"copies":[{"copyId":"3","attempt":-1,"deferrals":1.5}]}')).toEqual({
      ok: false,
      problem: 'not a deliver job: copies[0].attempt: must be >= 0; copies[0].deferrals: must be an integer',
    });
  });

  it('refuses what is not the queue’s job at all', () => {
    expect(check('route', '{"copies":[]}')).toEqual({ ok: false, problem: 'not a route job: messagePks: is required' });
    expect(check('deliver', '{"messagePks":["1"]}')).toEqual({ ok: false, problem: 'not a deliver job: copies: is required' });
    expect(check('route', 'null')).toEqual({ ok: false, problem: 'not a route job: must be an object' });
    expect(check('route', 'hello')).toEqual({ ok: false, problem: "not a route job: not JSON: Unexpected token 'h' at line 1 column 1" });
    expect(decodeJob(Buffer.from('{"messagePks":"1"}'), 'route')).toBeUndefined();
  });
});
