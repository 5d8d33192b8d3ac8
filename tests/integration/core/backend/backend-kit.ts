// Helpers for the backend integration tests: a real createBackend in a temp data dir with zero-delay
// simulated workers, a proxy on a free port and short timeouts; completions through its proxy.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { type Backend, type BackendDeps, createBackend } from '../../../../electron/core/backend';
import { type ApiClient, createApiClient } from '../../../../shared/api/client';
import { inMemoryTransport } from '../../../../shared/api/in-memory-transport';

export const CLI = resolve(__dirname, '../../../../bin/disagg-console.mjs');
export const MODEL = 'TinyLlama/TinyLlama-1.1B-Chat-v1.0';

export interface BackendHarness {
  backend: Backend;
  client: ApiClient;
  dataDir: string;
  close(): Promise<void>;
}

/**
 * A first worker port per backend, far apart, so backends of test files running in parallel do not pick the
 * same free port before either worker has bound it.
 */
export function randomFirstWorkerPort(): number {
  // Below the Linux ephemeral range (32768+), where client sockets and port-0 listeners land.
  return 20_000 + Math.floor(Math.random() * 120) * 100;
}

/** A backend with simulated GPUs, zero-delay sim workers and quick probes. */
export async function startTestBackend(over: Partial<BackendDeps> = {}): Promise<BackendHarness> {
  const dataDir = over.dataDir ?? mkdtempSync(join(tmpdir(), 'dc-backend-'));
  const backend = await createBackend({
    dataDir,
    env: { ...process.env, DISAGG_SIM_ZERO_DELAY: '1' },
    cliScript: CLI,
    proxyPort: 0,
    firstWorkerPort: randomFirstWorkerPort(),
    isGpuSimulationForced: true,
    policy: {
      readyTimeoutMs: 30_000,
      probeIntervalMs: 100,
      killTimeoutMs: 5000,
      backoffBaseMs: 200,
      backoffMaxMs: 1000,
    },
    pollIntervalMs: 500,
    log: () => undefined,
    ...over,
  });
  const transport = inMemoryTransport(backend);
  const client = createApiClient(transport);
  return {
    backend,
    client,
    dataDir,
    async close() {
      transport.close();
      await backend.dispose();
      if (over.dataDir === undefined) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** One non-streaming completion through the proxy; resolves with the status and the body. */
export async function complete(
  proxyUrl: string,
  prompt = 'Hello there',
  maxTokens = 4,
): Promise<{ status: number; body: { choices?: { text: string }[] } }> {
  const res = await fetch(`${proxyUrl}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, prompt, max_tokens: maxTokens }),
    signal: AbortSignal.timeout(15_000),
  });
  return { status: res.status, body: (await res.json()) as { choices?: { text: string }[] } };
}
