import type { ArgumentsHost } from '@nestjs/common';
import { EdgeExceptionFilter, refusalBody } from './edge-exception.filter';
import { answer, auditedRefusal, done, refuse, Refused } from './outcome';
import type { AuditService } from '../audit.service';
import { IdPipe, SchemaPipe } from './schema.pipe';

function refusalOf(run: () => unknown): Refused {
  try {
    run();
  } catch (error) {
    if (error instanceof Refused) return error;
    throw error;
  }
  throw new Error('not refused');
}

describe('SchemaPipe', () => {
  it('coerces a query to its shape, with defaults, and leaves out empty values', () => {
    expect(new SchemaPipe('DeadLetterListQuery', 'query').transform({ limit: '7', status: '', q: 'M-1' })).toEqual({ limit: 7, q: 'M-1' });
    expect(new SchemaPipe('ManualDispatchQuery', 'query').transform({})).toEqual({ status: 'waiting', limit: 100, offset: 0 });
  });

  it('refuses a bad value with 400 naming the field, in the text the schema gives', () => {
    const limit = refusalOf(() => new SchemaPipe('AtRiskQuery', 'query').transform({ limit: '501' })).refusal;
    expect(limit).toEqual({ ok: false, refused: 'invalid', detail: { statusCode: 400, error: 'Bad Request', message: 'limit must be a whole number from 1 to 500', field: 'limit' } });
    expect(refusalOf(() => new SchemaPipe('DeadLetterListQuery', 'query').transform({ from: 'yesterday' })).message).toBe('from must be a date or an instant');
    expect(refusalOf(() => new SchemaPipe('LoginRequest', 'body').transform({ username: 'a' })).message).toBe('password is required');
    expect(refusalOf(() => new SchemaPipe('LoginRequest', 'body').transform({ username: 'a'.repeat(201), password: 'p' })).message).toBe('username is longer than 200 characters');
    expect(refusalOf(() => new SchemaPipe('LoginRequest', 'body').transform(undefined)).message).toBe('username is required');
  });

  it('says a field of the wrong type is of the wrong type, and refuses a body field its shape does not name', () => {
    expect(refusalOf(() => new SchemaPipe('LoginRequest', 'body').transform({ username: 1, password: 'p' })).refusal.detail).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'username must be a text',
      field: 'username',
    });
    expect(refusalOf(() => new SchemaPipe('DiscardRequest', 'body').transform({ reason: 5 })).message).toBe('reason must be a text');
    expect(refusalOf(() => new SchemaPipe('CorrectRequest', 'body').transform({ payload: 12 })).message).toBe('payload must be a text (the corrected message as its dialect writes it)');
    expect(refusalOf(() => new SchemaPipe('DiscardRequest', 'body').transform({ reason: ' ' })).message).toBe('reason is required to discard');
    const unknown = [
      ['LoginRequest', { username: 'a', password: 'p', remember: true }, 'remember is unknown (this request takes username, password)'],
      ['CorrectRequest', { payload: 'x', dialekt: 'samsa' }, 'dialekt is unknown (this request takes payload, dialect)'],
      ['DiscardRequest', { reason: 'r', force: true }, 'force is unknown (this request takes reason)'],
      ['BulkPreviewRequest', { filters: {} }, 'filters is unknown (this request takes filter)'],
      ['BulkRequest', { action: 'replay', confirm: 1, dryRun: true }, 'dryRun is unknown (this request takes filter, action, reason, confirm)'],
      ['MarkSentRequest', { via: 'fax', when: 'now' }, 'when is unknown (this request takes via, at)'],
    ] as const;
    for (const [schema, body, message] of unknown) expect(refusalOf(() => new SchemaPipe(schema, 'body').transform(body)).message).toBe(message);
  });

  it('refuses a bulk filter key it does not name, and any status but open (a misspelt key widened the selection to every open dead letter)', () => {
    const known = 'status, reason, dialect, recipient, type, from, to, q';
    expect(refusalOf(() => new SchemaPipe('BulkPreviewRequest', 'body').transform({ filter: { reasn: 'invalid-message' } })).refusal.detail).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: `filter.reasn is unknown (this request takes ${known})`,
      field: 'filter.reasn',
    });
    expect(refusalOf(() => new SchemaPipe('BulkRequest', 'body').transform({ filter: { status: 'resolved' }, action: 'replay', confirm: 1 })).message).toBe(
      'filter.status must be open (a bulk action takes open dead letters only)',
    );
    expect(refusalOf(() => new SchemaPipe('BulkPreviewRequest', 'body').transform({ filter: 'x' })).message).toBe(`filter must be an object of filter keys (${known})`);
    expect(refusalOf(() => new SchemaPipe('BulkRequest', 'body').transform({ action: 'replay', confirm: 1, reason: 5 })).message).toBe('reason must be a text');
    expect(refusalOf(() => new SchemaPipe('PauseRequest', 'body').transform({ reason: 5 })).message).toBe('reason must be a text');
    expect(new SchemaPipe('BulkPreviewRequest', 'body').transform({ filter: { status: 'open', reason: 'invalid-message' } })).toEqual({ filter: { status: 'open', reason: 'invalid-message' } });
  });

  it('refuses a body that is not an object as a whole, naming the body', () => {
    for (const body of [[1], 'text', 3, true]) {
      expect(refusalOf(() => new SchemaPipe('LoginRequest', 'body').transform(body)).refusal.detail).toEqual({
        statusCode: 400,
        error: 'Bad Request',
        message: 'the request body must be a JSON object',
        field: 'body',
      });
    }
  });

  it('refuses the NUL character in any text of a request, naming the field (PostgreSQL cannot store it)', () => {
    const nul = refusalOf(() => new SchemaPipe('PauseRequest', 'body').transform({ reason: 'a\u0000b' })).refusal;
    expect(nul).toMatchObject({ refused: 'invalid', detail: { statusCode: 400, message: 'reason must not contain the NUL character (U+0000)', field: 'reason' } });
    expect(new SchemaPipe('PauseRequest', 'body').transform({ reason: 'planned maintenance, åäö' })).toEqual({ reason: 'planned maintenance, åäö' });
    // A pause reason is short and has no other fields.
    expect(refusalOf(() => new SchemaPipe('PauseRequest', 'body').transform({ reason: 'x'.repeat(501) })).message).toMatch(/^reason /);
    expect(refusalOf(() => new SchemaPipe('PauseRequest', 'body').transform({ reason: 'x', extra: 1 })).message).toMatch(/extra/);
  });

  it('reads a query integer from decimal digits only', () => {
    expect(new SchemaPipe('RetentionQuery', 'query').transform({ limit: '0100' })).toEqual({ limit: 100 });
    for (const limit of ['1e2', '+5', ' 5', '0x10', '5.0', '-1', ['1', '2']]) {
      expect(refusalOf(() => new SchemaPipe('RetentionQuery', 'query').transform({ limit })).refusal).toEqual({
        ok: false,
        refused: 'invalid',
        detail: { statusCode: 400, error: 'Bad Request', message: 'limit must be a whole number from 1 to 1000', field: 'limit' },
      });
    }
    expect(refusalOf(() => new SchemaPipe('RetentionQuery', 'query').transform({ limit: '99999999999999999999' })).message).toBe('limit must be a whole number from 1 to 1000');
  });

  it.each([
    ['RetentionQuery', 'limit'],
    ['AtRiskQuery', 'limit'],
    ['AuditQuery', 'user, action, target, from, to, job, before, limit'],
    ['ManualDispatchQuery', 'status, limit, unit, trigger, olderThanHours, offset'],
    ['DeviationQuery', 'kind, unit, from, to, limit, offset'],
    ['DeadLetterListQuery', 'status, reason, dialect, recipient, type, from, to, q, cursor, limit'],
  ] as const)('refuses a parameter %s does not take, naming it and those it takes', (schema, known) => {
    expect(refusalOf(() => new SchemaPipe(schema, 'query').transform({ lmit: '5' })).refusal).toEqual({
      ok: false,
      refused: 'invalid',
      detail: { statusCode: 400, error: 'Bad Request', message: `lmit is unknown (this request takes ${known})`, field: 'lmit' },
    });
  });

  it('names a nested field by its path, and applies conditional rules', () => {
    expect(refusalOf(() => new SchemaPipe('BulkPreviewRequest', 'body').transform({ filter: { to: 'x' } })).message).toBe('filter.to must be a date or an instant');
    expect(refusalOf(() => new SchemaPipe('BulkRequest', 'body').transform({ action: 'discard', confirm: 2 })).message).toBe('reason is required to discard');
    expect(refusalOf(() => new SchemaPipe('BulkRequest', 'body').transform({ action: 'replay', confirm: 0 })).message).toBe('confirm must be the count the preview showed');
    expect(new SchemaPipe('BulkRequest', 'body').transform({ action: 'replay', confirm: 2 })).toEqual({ action: 'replay', confirm: 2 });
  });

  it('takes a numeric id in a path, and answers 404 for anything else', () => {
    expect(new IdPipe().transform('42')).toBe('42');
    expect(refusalOf(() => new IdPipe().transform('4x')).refusal).toEqual({ ok: false, refused: 'not-found', detail: 'no such id' });
  });
});

describe('EdgeExceptionFilter', () => {
  function answerOf(error: unknown): { status?: number; body?: unknown; headers: Record<string, string> } {
    const out: { status?: number; body?: unknown; headers: Record<string, string> } = { headers: {} };
    const res = {
      setHeader: (name: string, value: string) => (out.headers[name] = value),
      status(code: number) {
        out.status = code;
        return this;
      },
      json: (body: unknown) => (out.body = body),
    };
    const host = { getType: () => 'http', switchToHttp: () => ({ getResponse: () => res }) } as unknown as ArgumentsHost;
    new EdgeExceptionFilter().catch(error, host);
    return out;
  }

  it('answers a refusal with its status, headers and the body Nest gives an HTTP exception', () => {
    expect(answerOf(new Refused(refuse('gone', 'removed')))).toEqual({ status: 410, body: { statusCode: 410, message: 'removed', error: 'Gone' }, headers: {} });
    expect(answerOf(new Refused(refuse('too-many', { statusCode: 429, message: 'later' }, { 'retry-after': '3' })))).toEqual({ status: 429, body: { statusCode: 429, message: 'later' }, headers: { 'retry-after': '3' } });
    expect(refusalBody(409, 'changed')).toEqual({ statusCode: 409, message: 'changed', error: 'Conflict' });
  });

  it('turns an outcome into its value, or a refusal', () => {
    expect(answer(done(5))).toBe(5);
    expect(() => answer(refuse('not-found', 'no dead letter 9'))).toThrow(Refused);
  });

  describe('audit of refused actions', () => {
    async function refusedWith(error: Refused, req: { method: string; path: string; session?: { username: string; role: string } }) {
      const entries: unknown[][] = [];
      const audit = { record: (...args: unknown[]) => Promise.resolve(void entries.push(args)) } as unknown as AuditService;
      let answered!: () => void;
      const done = new Promise<void>((resolve) => (answered = resolve));
      const out: { status?: number; auditedBefore?: number } = {};
      const res = {
        setHeader: () => undefined,
        status(code: number) {
          out.status = code;
          return this;
        },
        json: () => {
          out.auditedBefore = entries.length;
          answered();
        },
      };
      const host = { getType: () => 'http', switchToHttp: () => ({ getResponse: () => res, getRequest: () => req }) } as unknown as ArgumentsHost;
      new EdgeExceptionFilter(undefined, audit).catch(error, host);
      await done;
      return { ...out, entries };
    }
    const viewer = { username: 'vera', role: 'viewer' };

    it("writes a signed-in user's refused change before answering: method and path, status, reason and field, identity numbers masked", async () => {
      const bad = new Refused(refuse('invalid', { statusCode: 400, message: 'municipality must be a kommunkod, got 19121212-1212', field: 'municipality' }));
      const r = await refusedWith(bad, { method: 'POST', path: '/api/reports/episodes/E-19121212-1212/placing-municipality', session: viewer });
      expect(r.status).toBe(400);
      expect(r.auditedBefore).toBe(1);
      expect(r.entries).toEqual([[viewer, 'refused', 'POST /api/reports/episodes/E-********-****/placing-municipality', { status: 400, reason: 'municipality must be a kommunkod, got ********-****', field: 'municipality' }]]);
    });

    it('writes a 403 of a read too, but not a refused read otherwise, an audited refusal again, or a request without a session', async () => {
      expect((await refusedWith(new Refused(refuse('forbidden', 'this needs the role operator')), { method: 'GET', path: '/api/audit', session: viewer })).entries).toEqual([
        [viewer, 'refused', 'GET /api/audit', { status: 403, reason: 'this needs the role operator' }],
      ]);
      expect((await refusedWith(new Refused(refuse('invalid', 'month must be YYYY-MM')), { method: 'GET', path: '/api/reports/monthly', session: viewer })).entries).toEqual([]);
      expect((await refusedWith(auditedRefusal('conflict', 'already sent'), { method: 'POST', path: '/api/dispatch/1/sent', session: viewer })).entries).toEqual([]);
      expect((await refusedWith(new Refused(refuse('unauthenticated', 'sign in first')), { method: 'POST', path: '/api/dispatch/1/sent' })).entries).toEqual([]);
    });
  });
});
