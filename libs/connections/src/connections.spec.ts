import { connectionError, reasonOf, withoutPassword } from './connections';

describe('withoutPassword', () => {
  it('replaces the password of a URL, and leaves one without a password as it is', () => {
    expect(withoutPassword('postgres://svu:hemligt@db:5432/svu?sslmode=verify-full')).toBe('postgres://svu:***@db:5432/svu?sslmode=verify-full');
    expect(withoutPassword('amqps://svu:h%40mligt@rabbit-0:5671')).toBe('amqps://svu:***@rabbit-0:5671');
    expect(withoutPassword('postgres://postgres@127.0.0.1:5432/svu')).toBe('postgres://postgres@127.0.0.1:5432/svu');
  });

  it('masks the password of a text the URL parser does not take', () => {
    expect(withoutPassword('amqp://svu:hem ligt@[bad host/')).toBe('amqp://svu:***@[bad host/');
  });
});

describe('connectionError', () => {
  it('names the service, the URL without its password, the setting, and why, in one line', () => {
    const cause = Object.assign(new Error('password authentication failed for user "svu"'), { code: '28P01' });
    expect(connectionError('PostgreSQL', 'postgres://svu:hemligt@db/svu', cause, 'DATABASE_URL').message).toBe(
      'cannot connect to PostgreSQL at postgres://svu:***@db/svu (DATABASE_URL): password authentication failed for user "svu"',
    );
    expect(connectionError('RabbitMQ', 'amqp://guest:guest@127.0.0.1:9', new Error('connect ECONNREFUSED 127.0.0.1:9')).message).toBe(
      'cannot connect to RabbitMQ at amqp://guest:***@127.0.0.1:9: connect ECONNREFUSED 127.0.0.1:9',
    );
  });

  it('never repeats the password, even when the cause quotes it, encoded or not', () => {
    const message = connectionError('PostgreSQL', 'postgres://svu:h%40mligt@db/svu', new Error('bad URL postgres://svu:h@mligt@db and h%40mligt')).message;
    expect(message).not.toMatch(/mligt/);
  });

  it('reads an AggregateError (both addresses of localhost refused) by its first error', () => {
    const refused = new AggregateError([Object.assign(new Error('connect ECONNREFUSED ::1:5432'), { code: 'ECONNREFUSED' })], '');
    expect(reasonOf(refused)).toBe('connect ECONNREFUSED ::1:5432');
    expect(reasonOf(Object.assign(new Error(''), { code: 'ECONNRESET' }))).toBe('ECONNRESET');
    // An error of another realm (a vm context) is read by its shape.
    expect(reasonOf({ name: 'Error', message: 'connect ECONNREFUSED 127.0.0.1:9' })).toBe('connect ECONNREFUSED 127.0.0.1:9');
  });
});
