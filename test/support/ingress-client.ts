/**
 * The one way tests, benchmarks and tools post a message to a gateway's HTTP ingress, so that what
 * every caller must send along (credentials, once ingress requires them) is decided in one place.
 */
export function postIngress(baseUrl: string, dialect: string, body: Buffer | string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${baseUrl}/ingress/${dialect}`, { method: 'POST', body, headers });
}
