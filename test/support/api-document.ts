import Ajv2020 from 'ajv/dist/2020';

/** One operation of the OpenAPI document a gateway serves (generated from its controllers). */
export interface DocumentedOperation {
  readonly method: string;
  readonly path: string;
  readonly operationId: string;
  /** public, sender, signed-in or operator (the Endpoint declaration's access). */
  readonly access: string;
}

/** The document a running gateway serves at /api/docs/openapi.json. */
export async function apiDocument(base: string): Promise<{ openapi: string; paths: Record<string, Record<string, Record<string, unknown>>>; components: Record<string, unknown> }> {
  const res = await fetch(`${base}/api/docs/openapi.json`);
  if (res.status !== 200) throw new Error(`GET /api/docs/openapi.json answered ${res.status}`);
  return (await res.json()) as never;
}

/** Every operation of that document. */
export async function documentedOperations(base: string): Promise<DocumentedOperation[]> {
  const document = await apiDocument(base);
  return Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ method: method.toUpperCase(), path, operationId: String(op['operationId']), access: String(op['x-access']) })),
  );
}

/**
 * Checks answers against the shapes the document gives them: returns what is wrong with a JSON answer
 * of a route (path and query as called), or [] when it has the documented shape.
 */
export async function answerChecker(base: string): Promise<(method: string, route: string, status: number, body: unknown) => string[]> {
  const document = await apiDocument(base);
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addFormat('date-time', { type: 'string', validate: (v: string) => !Number.isNaN(Date.parse(v)) });
  ajv.addFormat('date-or-instant', { type: 'string', validate: (v: string) => !Number.isNaN(Date.parse(v)) });
  ajv.addSchema({ $id: 'openapi.json', components: document.components });
  const templates = Object.keys(document.paths).map((path) => ({ path, pattern: new RegExp(`^${path.replace(/\{\w+\}/g, '[^/]+')}$`) }));
  return (method, route, status, body) => {
    const path = route.split('?')[0]!;
    const template = templates.find((t) => t.pattern.test(path));
    if (template === undefined) return [`${method} ${path} is not documented`];
    const operation = document.paths[template.path]![method.toLowerCase()] as { responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }> } | undefined;
    const schema = operation?.responses[String(status)]?.content?.['application/json']?.schema;
    if (schema === undefined) return [`${method} ${template.path} documents no JSON answer ${status}`];
    const validate = ajv.compile(JSON.parse(JSON.stringify(schema).replace(/"#\/components\//g, '"openapi.json#/components/')));
    return validate(body) ? [] : (validate.errors ?? []).map((e) => `${method} ${route} ${status}: ${e.instancePath} ${e.message ?? ''}`);
  };
}
