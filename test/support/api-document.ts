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
