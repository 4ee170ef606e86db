import { TEST_SENDER_KEY } from './senders';

/**
 * The one way tests, benchmarks and tools post a message to a gateway's HTTP ingress, so that what
 * every caller must send along is decided in one place: the test sender system's bearer key
 * (test/support/senders.ts), unless `headers` bring their own `authorization`.
 */
export function postIngress(baseUrl: string, dialect: string, body: Buffer | string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${baseUrl}/ingress/${dialect}`, { method: 'POST', body, headers: { authorization: `Bearer ${TEST_SENDER_KEY}`, ...headers } });
}
