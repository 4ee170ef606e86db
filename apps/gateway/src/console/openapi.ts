/** OpenAPI 3.0 description of the console API, served at /api/docs (UI) and /api/docs/openapi.json. */

const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const ok = (description: string, schema: object = { type: 'object' }) => ({ 200: { description, ...json(schema) } });
const errors = {
  400: { description: 'Bad request: the message says which field' },
  401: { description: 'Not signed in' },
  403: { description: 'Signed in, but the role may not do this (viewer on an action)' },
  404: { description: 'No such item' },
  409: { description: 'The item changed meanwhile (already resolved, selection changed)' },
};
const hsaId = { name: 'hsaId', in: 'path', required: true, schema: { type: 'string' } };
const id = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^\\d+$' } };
const q = (name: string, description: string, schema: object = { type: 'string' }) => ({ name, in: 'query', required: false, description, schema });
const filterParams = [
  q('status', 'open (default), resolved or all', { type: 'string', enum: ['open', 'resolved', 'all'] }),
  q('reason', 'invalid-message, unknown-recipient, delivery-failed, unprocessable'),
  q('dialect', 'lifecare, webcare, samsa, canonical'),
  q('recipient', 'recipient HSA-id'),
  q('type', 'canonical message type'),
  q('from', 'created at or after (ISO 8601)'),
  q('to', 'created before (ISO 8601)'),
  q('q', 'message id or episode id, exactly'),
];
const filterSchema = {
  type: 'object',
  properties: Object.fromEntries(['reason', 'dialect', 'recipient', 'type', 'from', 'to', 'q'].map((k) => [k, { type: 'string' }])),
};
const deadLetterRow = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    reason: { type: 'string' },
    messageId: { type: 'string', nullable: true },
    episodeId: { type: 'string', nullable: true },
    type: { type: 'string', nullable: true },
    dialect: { type: 'string', nullable: true },
    recipientHsa: { type: 'string', nullable: true },
    lastError: { type: 'string', nullable: true },
    problemCount: { type: 'integer' },
    resolvedAt: { type: 'string', format: 'date-time', nullable: true },
    resolution: { type: 'string', nullable: true },
  },
};
const op = (summary: string, roles: 'any' | 'operator', extra: object) => ({
  summary,
  description: roles === 'operator' ? 'Role operator. Audited.' : 'Any signed-in user.',
  security: [{ bearer: [] }, { cookie: [] }],
  ...extra,
});

export const OPENAPI = {
  openapi: '3.0.3',
  info: {
    title: 'SVU gateway console API',
    version: '1',
    description:
      'Operations API of the SVU gateway: dead-letter queue, deadlines at risk, manual dispatch, deviations, audit log. ' +
      'Sign in with POST /api/login; send the token as `Authorization: Bearer <token>` or use the session cookie. ' +
      'Lists never show identity numbers; a dead letter detail shows them to operators only, and every detail view is audited. ' +
      'Every answer to a viewer has identity-number-shaped strings (ids and texts included) masked and patient names hidden. ' +
      'A state-changing request with the session cookie from another origin is refused with 403 (a bearer token without the cookie is not checked).',
  },
  components: {
    securitySchemes: {
      bearer: { type: 'http', scheme: 'bearer' },
      cookie: { type: 'apiKey', in: 'cookie', name: 'svu_session' },
    },
  },
  paths: {
    '/api/login': {
      post: {
        summary: 'Sign in',
        security: [],
        requestBody: json({ type: 'object', required: ['username', 'password'], properties: { username: { type: 'string' }, password: { type: 'string' } } }),
        responses: {
          ...ok('Signed in', { type: 'object', properties: { token: { type: 'string' }, role: { type: 'string', enum: ['viewer', 'operator'] } } }),
          400: errors[400],
          401: { description: 'Wrong user name or password (the same answer, and time, for a user that does not exist)' },
          403: { description: 'Sent from another origin' },
          429: { description: 'Too many failed sign-ins for this user name or client address: try again after Retry-After seconds' },
          503: { description: 'Too many sign-ins at once: try again after Retry-After seconds' },
        },
      },
    },
    '/api/logout': { post: { summary: 'Sign out: ends the session at once (in every console process) and clears the cookie', security: [], responses: ok('Signed out') } },
    '/api/me': { get: op('Who is signed in', 'any', { responses: { ...ok('The user'), 401: errors[401] } }) },
    '/api/overview': { get: op('Counts by state, dead letters, copies at risk, deliveries per minute, last errors', 'any', { responses: { ...ok('Overview'), 401: errors[401] } }) },
    '/api/at-risk': { get: op('Admission copies whose deadline is within the fallback margin or past', 'any', { parameters: [q('limit', '1-500')], responses: { ...ok('Copies at risk', { type: 'array', items: { type: 'object' } }), 401: errors[401] } }) },
    '/api/dead-letters': {
      get: op('Dead letters, newest first, keyset-paged', 'any', {
        parameters: [...filterParams, q('cursor', 'the `next` of the previous page'), q('limit', '1-500, default 50')],
        responses: { ...ok('A page', { type: 'object', properties: { items: { type: 'array', items: deadLetterRow }, next: { type: 'string', nullable: true } } }), 400: errors[400], 401: errors[401] },
      }),
    },
    '/api/dead-letters/{id}': {
      get: op('One dead letter: payload, canonical form, problems with field paths, delivery attempts and errors (audited)', 'any', { parameters: [id], responses: { ...ok('Detail'), 401: errors[401], 404: errors[404] } }),
    },
    '/api/dead-letters/{id}/replay': { post: op('Replay: read again as stored, or route and deliver the copy again', 'operator', { parameters: [id], responses: { ...ok('Replayed'), ...errors } }) },
    '/api/dead-letters/{id}/correct': {
      post: op('Correct and replay: the edited payload is validated first; the original is kept', 'operator', {
        parameters: [id],
        requestBody: json({ type: 'object', required: ['payload'], properties: { payload: { type: 'string' }, dialect: { type: 'string' } } }),
        responses: { ...ok('Accepted as a new message'), ...errors },
      }),
    },
    '/api/dead-letters/{id}/discard': {
      post: op('Discard with a reason', 'operator', { parameters: [id], requestBody: json({ type: 'object', required: ['reason'], properties: { reason: { type: 'string' } } }), responses: { ...ok('Discarded'), ...errors } }),
    },
    '/api/dead-letters/bulk/preview': {
      post: op('How many open dead letters a bulk action on this filter would touch', 'operator', { requestBody: json({ type: 'object', properties: { filter: filterSchema } }), responses: { ...ok('Count', { type: 'object', properties: { count: { type: 'integer' } } }), ...errors } }),
    },
    '/api/dead-letters/bulk': {
      post: op('Start a bulk replay or discard; `confirm` must equal the previewed count. Runs throttled in the background', 'operator', {
        requestBody: json({
          type: 'object',
          required: ['action', 'confirm'],
          properties: { filter: filterSchema, action: { type: 'string', enum: ['replay', 'discard'] }, reason: { type: 'string' }, confirm: { type: 'integer' } },
        }),
        responses: { ...ok('The job'), ...errors },
      }),
    },
    '/api/bulk-jobs/{id}': { get: op('Progress of a bulk job', 'any', { parameters: [id], responses: { ...ok('The job'), 401: errors[401], 404: errors[404] } }) },
    '/api/bulk-jobs/{id}/cancel': { post: op('Cancel a running bulk job', 'operator', { parameters: [id], responses: { ...ok('The job'), ...errors } }) },
    '/api/manual-dispatch': { get: op('Fallback documents: waiting (default), sent, withdrawn (the message was cancelled before sending) or all', 'any', { parameters: [q('status', 'waiting, sent, withdrawn, all'), q('limit', '1-500')], responses: { ...ok('Documents', { type: 'array', items: { type: 'object' } }), 401: errors[401] } }) },
    '/api/manual-dispatch/{id}/pdf': {
      get: op('Download the PDF (it holds the full name and identity number)', 'operator', { parameters: [id], responses: { 200: { description: 'PDF', content: { 'application/pdf': {} } }, 401: errors[401], 403: errors[403], 404: errors[404] } }),
    },
    '/api/manual-dispatch/{id}/sent': {
      post: op('Mark sent by fax or letter; the copy counts as delivered by hand then (a letter: then plus SVU_POSTAL_DELAY)', 'operator', {
        parameters: [id],
        requestBody: json({ type: 'object', required: ['via'], properties: { via: { type: 'string', enum: ['fax', 'letter'] }, at: { type: 'string', format: 'date-time' } } }),
        responses: { ...ok('The document'), ...errors },
      }),
    },
    '/api/deviations': { get: op('Deviations by period, unit and kind', 'any', { parameters: [q('from', 'ISO 8601'), q('to', 'ISO 8601'), q('unit', 'HSA-id'), q('kind', 'late-on-arrival, deadline-missed, rejected-by-recipient, dead-lettered'), q('limit', '1-500')], responses: { ...ok('Deviations', { type: 'array', items: { type: 'object' } }), 401: errors[401] } }) },
    '/api/recipients': {
      get: op('Each recipient: state (healthy, failing, paused), backlog, age of the oldest waiting copy, last error, last success, next probe', 'any', {
        responses: { ...ok('Recipients', { type: 'array', items: { type: 'object' } }), 401: errors[401] },
      }),
    },
    '/api/recipients/{hsaId}': { get: op('One recipient', 'any', { parameters: [hsaId], responses: { ...ok('Recipient'), 401: errors[401], 404: errors[404] } }) },
    '/api/recipients/{hsaId}/retry': {
      post: op('Retry now: probe a failing recipient at once, or send a healthy one its waiting copies (audited; 409 when paused)', 'operator', { parameters: [hsaId], responses: { ...ok('Recipient'), ...errors, 409: { description: 'Refused, with the reason' } } }),
    },
    '/api/recipients/{hsaId}/pause': {
      post: op('Pause (announced maintenance): its copies wait; deadlines and fallback still run (audited; 400 without a reason, 409 when already paused)', 'operator', {
        parameters: [hsaId],
        requestBody: json({ type: 'object', required: ['reason'], properties: { reason: { type: 'string', minLength: 1, maxLength: 500 } } }),
        responses: { ...ok('Recipient'), ...errors, 409: { description: 'Refused, with the reason' } },
      }),
    },
    '/api/recipients/{hsaId}/resume': {
      post: op('Resume: its waiting copies go at once, or it is probed at once when failing (audited; 409 when not paused)', 'operator', { parameters: [hsaId], responses: { ...ok('Recipient'), ...errors, 409: { description: 'Refused, with the reason' } } }),
    },
    '/api/audit': { get: op('Audit log, newest first', 'any', { parameters: [q('before', 'id to page from'), q('limit', '1-500')], responses: { ...ok('Entries', { type: 'array', items: { type: 'object' } }), 401: errors[401] } }) },
    '/api/retention': {
      get: op('How long each kind of data is kept, and what the retention job pruned when (docs/retention.md)', 'any', {
        parameters: [q('limit', 'records, 1-1000, default 100')],
        responses: { ...ok('Retention settings and records', { type: 'object', properties: { kept: { type: 'array', items: { type: 'object' } }, everySeconds: { type: 'number' }, runs: { type: 'array', items: { type: 'object' } } } }), 401: errors[401] },
      }),
    },
    '/api/reports/monthly': {
      get: op('Monthly follow-up per municipality and hospital unit: episodes, share of admission notifications within 24 hours, days waiting after ready-for-discharge, liable days and kronor under the municipality\'s rule set, with the reason (docs/payment-liability.md)', 'any', {
        parameters: [
          q('month', 'YYYY-MM'),
          q('municipality', 'kommunkod'),
          q('unit', 'hospital unit HSA-id'),
          q('format', 'json (default) or csv', { type: 'string', enum: ['json', 'csv'] }),
          q('separator', 'CSV field separator: semicolon (default) or comma', { type: 'string', enum: ['semicolon', 'comma'] }),
          q('bom', 'true: the CSV starts with a UTF-8 byte order mark (for Excel)', { type: 'string', enum: ['true', 'false'] }),
        ],
        responses: { ...ok('Reports', { type: 'array', items: { type: 'object' } }), 400: errors[400], 401: errors[401] },
      }),
    },
    '/api/reports/series': { get: op('One municipality month by month (for the chart)', 'any', { parameters: [q('municipality', 'kommunkod'), q('month', 'last month, YYYY-MM'), q('months', '1-36, default 12')], responses: { ...ok('Reports', { type: 'array', items: { type: 'object' } }), 400: errors[400], 401: errors[401] } }) },
    '/api/reports/episodes': { get: op('Episodes of a month: day 0, discharge date, waiting days, each precondition with its evidence, liable days, kronor and the reason (no identity data)', 'any', { parameters: [q('month', 'YYYY-MM'), q('municipality', 'kommunkod'), q('format', 'json (default) or csv', { type: 'string', enum: ['json', 'csv'] })], responses: { ...ok('Episodes', { type: 'array', items: { type: 'object' } }), 400: errors[400], 401: errors[401] } }) },
    '/api/reports/episodes/{episodeId}/region-caused': {
      post: op('Record whether an episode\'s delay was caused by the region (no liability for it under Västerbotten\'s rule)', 'operator', {
        parameters: [{ name: 'episodeId', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: json({ type: 'object', required: ['regionCaused'], properties: { regionCaused: { type: 'boolean' }, note: { type: 'string' } } }),
        responses: { ...ok('Recorded'), ...errors },
      }),
    },
    '/api/reports/episodes/{episodeId}/placing-municipality': {
      post: op('Record the municipality that placed the patient in another municipality (it pays), or null to clear it', 'operator', {
        parameters: [{ name: 'episodeId', in: 'path', required: true, schema: { type: 'string' } }],
        requestBody: json({ type: 'object', required: ['municipality'], properties: { municipality: { type: ['string', 'null'], description: 'kommunkod' }, note: { type: 'string' } } }),
        responses: { ...ok('Recorded'), ...errors },
      }),
    },
    '/metrics': { get: { summary: 'Prometheus metrics', security: [], responses: { 200: { description: 'text exposition format' } } } },
    '/health/live': { get: { summary: 'The process answers', security: [], responses: ok('ok') } },
    '/health/ready': { get: { summary: 'Broker and database reachable', security: [], responses: { ...ok('ready'), 503: { description: 'not ready' } } } },
  },
};
