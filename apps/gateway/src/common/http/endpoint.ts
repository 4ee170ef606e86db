import { applyDecorators } from '@nestjs/common';
import { ApiBody, ApiExtension, ApiOperation, ApiParam, ApiQuery, ApiResponse, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { Public, Roles } from '../auth/auth.guard';
import { apiSchemaOf, asComponent, propertiesOf, type ApiSchemaName } from './api-schemas';

/**
 * Who may call an endpoint: anyone; a sender system (ingress: its bearer key or client certificate);
 * any signed-in console user; an operator only.
 */
export type Access = 'public' | 'sender' | 'signed-in' | 'operator';

type SchemaObject = Record<string, unknown>;

export interface Answer {
  readonly description: string;
  /** A JSON body of this shape. */
  readonly body?: ApiSchemaName;
  /** Other media types, with their schemas. */
  readonly content?: Readonly<Record<string, SchemaObject>>;
  readonly headers?: Readonly<Record<string, { description: string; schema: SchemaObject }>>;
}

export interface EndpointSpec {
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly tag: string;
  readonly access: Access;
  /** The shape of the query string: every property is a query parameter. */
  readonly query?: ApiSchemaName;
  /** The shape of a JSON body. */
  readonly body?: ApiSchemaName;
  /** A body that is not JSON (ingress: a message as its dialect writes it). */
  readonly rawBody?: { readonly description: string; readonly content: Readonly<Record<string, SchemaObject>> };
  readonly params?: Readonly<Record<string, { description: string; schema: SchemaObject }>>;
  /** Every answer by status; refusals of access (401, 403) are added from `access`. */
  readonly answers: Readonly<Record<number, Answer>>;
}

const ERROR: Answer['body'] = 'HttpError';
/** A refusal whose body is the HttpError shape. */
export const refused = (description: string): Answer => ({ description, body: ERROR });

/** A numeric id in a path (anything else is 404, as an id that does not exist). */
export const ID_PARAM = { description: 'The numeric id', schema: { type: 'string', pattern: '^\\d{1,18}$' } };

const RETRY_AFTER = { 'retry-after': { description: 'Seconds to wait before trying again', schema: { type: 'integer', minimum: 1 } } };
export const retryAfter = (description: string, body: ApiSchemaName = 'HttpError'): Answer => ({ description, body, headers: RETRY_AFTER });


function accessDecorators(access: Access): { decorators: Array<ClassDecorator | MethodDecorator>; answers: Record<number, Answer> } {
  switch (access) {
    case 'public':
      // An empty requirement list: no credential needed.
      return { decorators: [Public(), ApiExtension('x-access', 'public')], answers: {} };
    case 'sender':
      return { decorators: [Public(), ApiSecurity('senderKey'), ApiSecurity('clientCertificate'), ApiExtension('x-access', 'sender')], answers: {} };
    case 'signed-in':
    case 'operator': {
      const answers: Record<number, Answer> = { 401: refused('Not signed in, or the session has ended') };
      // A state-changing request with the session cookie from another origin is refused with 403 too (the document adds it).
      if (access === 'operator') answers[403] = refused('Signed in, but the role may not do this (a viewer)');
      return { decorators: [...(access === 'operator' ? [Roles('operator')] : []), ApiSecurity('consoleToken'), ApiSecurity('consoleSession'), ApiExtension('x-access', access)], answers };
    }
  }
}

function responseDecorator(status: number, answer: Answer): MethodDecorator {
  const content: Record<string, { schema: SchemaObject }> = {};
  if (answer.body !== undefined) content['application/json'] = { schema: { $ref: `#/components/schemas/${answer.body}` } };
  for (const [type, schema] of Object.entries(answer.content ?? {})) content[type] = { schema: asComponent(schema) };
  return ApiResponse({
    status,
    description: answer.description,
    ...(Object.keys(content).length === 0 ? {} : { content }),
    ...(answer.headers === undefined ? {} : { headers: answer.headers }),
  });
}

/**
 * One HTTP endpoint's contract, declared once beside its handler: who may call it (applied by the
 * auth guard), and the operation of the generated OpenAPI document (operationId, parameters, body and
 * every answer, with their shapes from schemas/api.schema.json). Bodies and queries are validated by
 * SchemaPipe against the same shapes.
 */
export function Endpoint(spec: EndpointSpec): MethodDecorator {
  const access = accessDecorators(spec.access);
  const description = spec.access === 'operator' ? `Role operator. Audited. ${spec.description ?? ''}` : spec.access === 'signed-in' ? `Any signed-in user. ${spec.description ?? ''}` : (spec.description ?? '');
  const decorators: Array<ClassDecorator | MethodDecorator> = [
    ApiOperation({ operationId: spec.operationId, summary: spec.summary, ...(description.trim() === '' ? {} : { description: description.trim() }) }),
    ApiTags(spec.tag),
    ...access.decorators,
  ];
  for (const [name, param] of Object.entries(spec.params ?? {})) decorators.push(ApiParam({ name, required: true, description: param.description, schema: param.schema }));
  if (spec.query !== undefined) {
    for (const property of propertiesOf(spec.query)) {
      const schema = asComponent(property.schema);
      decorators.push(ApiQuery({ name: property.name, required: property.required, ...(typeof schema['description'] === 'string' ? { description: schema['description'] } : {}), schema: schema as never }));
    }
  }
  if (spec.body !== undefined) {
    const description = apiSchemaOf(spec.body)['description'];
    decorators.push(ApiBody({ required: true, schema: { $ref: `#/components/schemas/${spec.body}` }, ...(typeof description === 'string' ? { description } : {}) }));
  }
  if (spec.rawBody !== undefined) {
    // Written into the operation's requestBody by the document builder (media types of their own, no JSON).
    decorators.push(ApiExtension('x-raw-body', spec.rawBody));
  }
  for (const [status, answer] of Object.entries({ ...access.answers, ...spec.answers })) decorators.push(responseDecorator(Number(status), answer));
  return applyDecorators(...decorators);
}
