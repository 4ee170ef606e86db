import { isTransientStoreError } from './database';

describe('isTransientStoreError', () => {
  it('takes a database that is away or restarting for transient', () => {
    const transient = [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('the database system is shutting down'), { code: '57P03' }),
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      Object.assign(new Error('connection failure'), { code: '08006' }),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      new Error('cannot connect to PostgreSQL at postgres://127.0.0.1:5432/svu (DATABASE_URL): the database system is starting up', {
        cause: Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
      }),
    ];
    expect(transient.filter((e) => !isTransientStoreError(e))).toEqual([]);
  });

  it('takes a wrong setting or a broken statement for what it is', () => {
    const lasting = [
      Object.assign(new Error('password authentication failed for user "svu"'), { code: '28P01' }),
      Object.assign(new Error('database "nope" does not exist'), { code: '3D000' }),
      Object.assign(new Error('syntax error at or near "SELEC"'), { code: '42601' }),
      Object.assign(new Error('getaddrinfo ENOTFOUND db.example'), { code: 'ENOTFOUND' }),
      new Error('something else'),
      undefined,
    ];
    expect(lasting.filter((e) => isTransientStoreError(e))).toEqual([]);
  });
});
