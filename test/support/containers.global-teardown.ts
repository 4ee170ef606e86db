/** Stops the containers containers.global-setup.ts started (none when the machine's services were used). */
export default async function teardown(): Promise<void> {
  const started = (globalThis as { __svuContainers?: Array<{ stop(): Promise<unknown> }> }).__svuContainers ?? [];
  await Promise.all(started.map((c) => c.stop()));
}
