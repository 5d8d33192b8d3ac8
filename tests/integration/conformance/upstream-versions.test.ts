// Conformance (issue #13): the proxy in front of simulated workers emulating each TensorRT-LLM release,
// driven by the official OpenAI SDK. Per release: the context worker's disaggregated_params reach the
// generation worker byte for byte (request_type aside); invalid requests get 400 with no worker call.
// 1.3 only: signed generation calls verify with the shared key and are refused without it; per-request
// metrics come back with upstream's header names, phases and arithmetic. Counts are taken at the sims.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TrtllmVersion } from '../../../shared/logic/trtllm-dialect';
import { dialectOf } from '../../../shared/logic/trtllm-dialect';
import { type ProxyUnderTest, startProxy } from '../proxy/proxy-test-kit';
import { type SimProcess, startSimWorker, tempFile } from '../sim/sim-process';

const MODEL = 'TinyLlama/TinyLlama-1.1B-Chat-v1.0';
const ENV = { DISAGG_SIM_ZERO_DELAY: '1' };
const KEY = 'replace-with-a-random-shared-key';

interface SimRequests {
  received: number;
  recent: Array<{
    path: string;
    disaggregated_params: string | null;
    auth: string | null;
    return_metrics: boolean;
  }>;
  sent_context_params: string[];
}

async function simRequests(sim: SimProcess): Promise<SimRequests> {
  const r = await fetch(`${sim.url}/_sim/requests`);
  return (await r.json()) as SimRequests;
}

function workerOptions(version: TrtllmVersion, key: string | null): string {
  const lines = [
    'disable_overlap_scheduler: true',
    'cache_transceiver_config:',
    '  backend: UCX',
    'return_perf_metrics: true',
  ];
  if (key !== null && dialectOf(version).signing !== 'none') {
    lines.push(`internal_request_auth_key: "${key}"`);
  }
  return lines.join('\n') + '\n';
}

interface Deployment {
  ctx: SimProcess;
  gen: SimProcess;
  proxy: ProxyUnderTest;
  client: OpenAI;
}

async function deploy(
  version: TrtllmVersion,
  workerKey: string | null,
  proxyKey: string | undefined,
): Promise<Deployment> {
  const opts = tempFile('w.yaml', workerOptions(version, workerKey));
  const args = [MODEL, '--extra_llm_api_options', opts, '--emulate-version', version];
  const [ctx, gen] = await Promise.all([startSimWorker(args, ENV), startSimWorker(args, ENV)]);
  const proxy = await startProxy({
    contextUrls: [`127.0.0.1:${ctx.port}`],
    generationUrls: [`127.0.0.1:${gen.port}`],
    trtllmVersion: version,
    returnPerfMetrics: true,
    ...(proxyKey ? { internalRequestAuthKey: proxyKey } : {}),
  });
  const client = new OpenAI({
    baseURL: `http://127.0.0.1:${proxy.port}/v1`,
    apiKey: 'unused',
    maxRetries: 0,
  });
  return { ctx, gen, proxy, client };
}

async function undeploy(d: Deployment | undefined): Promise<void> {
  if (!d) return;
  await d.proxy.proxy.close();
  await Promise.all([d.ctx.stop(), d.gen.stop()]);
}

describe.each(['1.0', '1.1', '1.2', '1.3'] as const)(
  'TensorRT-LLM %s workers behind the proxy',
  (version) => {
    const dialect = dialectOf(version);
    let d: Deployment | undefined;

    beforeAll(async () => {
      d = await deploy(version, KEY, KEY);
    }, 60_000);
    afterAll(() => undeploy(d));

    it("the generation worker receives the context worker's disaggregated_params byte for byte", async () => {
      if (!d) throw new Error('not deployed');
      const completion = await d.client.completions.create({
        model: MODEL,
        prompt: 'The capital of Germany is',
        max_tokens: 8,
        temperature: 0,
      });
      expect(completion.choices[0]?.text.length).toBeGreaterThan(0);
      const chat = await d.client.chat.completions.create({
        model: MODEL,
        messages: [{ role: 'user', content: 'hello' }],
        max_tokens: 8,
      });
      expect(chat.choices[0]?.message.content?.length).toBeGreaterThan(0);

      const sent = (await simRequests(d.ctx)).sent_context_params;
      const received = (await simRequests(d.gen)).recent.map((x) => x.disaggregated_params);
      expect(sent).toHaveLength(2);
      expect(received).toEqual(
        sent.map((text) =>
          text.replace('"request_type":"context_only"', '"request_type":"generation_only"'),
        ),
      );
      const fields = Object.keys(JSON.parse(received[0] ?? '{}') as Record<string, unknown>);
      for (const extra of dialect.contextAnswerExtras) expect(fields).toContain(extra);
    });

    it.each([
      [
        'chat top_logprobs without logprobs',
        'chat',
        { messages: [{ role: 'user', content: 'hi' }], top_logprobs: 2 },
        'when using `top_logprobs`, `logprobs` must be set to true.',
      ],
      [
        'negative max_tokens',
        'completions',
        { prompt: 'hi', max_tokens: -1 },
        'max_tokens must be a non-negative integer, got -1',
      ],
      [
        'stream_options without stream',
        'completions',
        { prompt: 'hi', stream_options: { include_usage: true } },
        'Stream options can only be defined when stream is true.',
      ],
      [
        'several prompts',
        'completions',
        { prompt: ['a', 'b'] },
        'Disaggregated server currently only supports single string prompt or list of integers in request',
      ],
    ] as const)(
      '%s: 400 with the OpenAI error shape and no call to any worker',
      async (_name, endpoint, body, message) => {
        if (!d) throw new Error('not deployed');
        const before = [(await simRequests(d.ctx)).received, (await simRequests(d.gen)).received];
        const create =
          endpoint === 'chat'
            ? d.client.chat.completions.create({
                model: MODEL,
                ...body,
              } as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming)
            : d.client.completions.create({
                model: MODEL,
                ...body,
              } as unknown as OpenAI.CompletionCreateParamsNonStreaming);
        const error = await create.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(OpenAI.BadRequestError);
        expect((error as InstanceType<typeof OpenAI.BadRequestError>).message).toContain(message);
        const after = [(await simRequests(d.ctx)).received, (await simRequests(d.gen)).received];
        expect(after).toEqual(before);
      },
    );

    it(
      dialect.hasRequestMetrics
        ? "returns merged per-request metrics with upstream's names"
        : 'ignores X-TRTLLM-return-metrics (this release has none)',
      async () => {
        if (!d) throw new Error('not deployed');
        const { response } = await d.client.completions
          .create(
            { model: MODEL, prompt: 'The capital of France is', max_tokens: 6 },
            { headers: { 'X-TRTLLM-return-metrics': '1' } },
          )
          .withResponse();
        const timing = response.headers.get('server-timing');
        if (!dialect.hasRequestMetrics) {
          expect(timing).toBeNull();
          return;
        }
        const entries = (timing ?? '').split(', ').map((e) => e.split(';dur='));
        const names = entries.map(([n]) => n);
        // Phases in upstream's order: the proxy's own, then the context and generation workers'.
        expect(names.slice(0, 2)).toEqual(['disagg_queue', 'disagg_ttft']);
        for (const n of [
          'ctx_queue',
          'ctx_ttft',
          'ctx_e2e',
          'gen_ttft',
          'gen_e2e',
          'gen_kv_transfer',
        ]) {
          expect(names).toContain(n);
        }
        for (const [, dur] of entries) expect(dur).toMatch(/^\d+\.\d{6}$/);
        const stamps = response.headers.get('x-trtllm-start-end-time') ?? '';
        const stampNames = stamps.split(', ').map((s) => s.split(';ts=')[0]);
        expect(stampNames.slice(0, 2)).toEqual(['disagg-start', 'disagg-end']);
        expect(stampNames).toEqual(
          expect.arrayContaining(['ctx-start', 'ctx-end', 'gen-start', 'gen-end']),
        );
        // Upstream's arithmetic: a worker's recomputed e2e is its end stamp minus its start stamp, in ms.
        const ts = new Map(
          stamps
            .split(', ')
            .map((s): [string, number] => [s.split(';ts=')[0] ?? '', Number(s.split(';ts=')[1])]),
        );
        const ctxE2e = Number(entries.find(([n]) => n === 'ctx_e2e')?.[1]);
        expect(ctxE2e).toBeCloseTo(
          ((ts.get('ctx-end') ?? 0) - (ts.get('ctx-start') ?? 0)) * 1000,
          3,
        );
        // Both workers were asked for their metrics.
        expect((await simRequests(d.ctx)).recent.at(-1)?.return_metrics).toBe(true);
        expect((await simRequests(d.gen)).recent.at(-1)?.return_metrics).toBe(true);
      },
    );

    it(
      dialect.hasRequestMetrics
        ? 'ends a metrics stream with one merged trtllm.perf_metrics event after [DONE]'
        : 'ends a stream at [DONE]',
      async () => {
        if (!d) throw new Error('not deployed');
        const r = await fetch(`http://127.0.0.1:${d.proxy.port}/v1/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'X-TRTLLM-return-metrics': '1' },
          body: JSON.stringify({
            model: MODEL,
            prompt: 'The capital of Italy is',
            max_tokens: 6,
            stream: true,
          }),
        });
        const text = await r.text();
        const afterDone = text.slice(text.indexOf('data: [DONE]\n\n') + 'data: [DONE]\n\n'.length);
        if (!dialect.hasRequestMetrics) {
          expect(afterDone).toBe('');
          return;
        }
        const [eventLine, dataLine, ...rest] = afterDone.split('\n');
        expect(eventLine).toBe('event: trtllm.perf_metrics');
        expect(rest).toEqual(['', '']);
        const payload = JSON.parse((dataLine ?? '').replace(/^data: /, '')) as Record<
          string,
          string
        >;
        const names = (payload['Server-Timing'] ?? '').split(', ').map((e) => e.split(';dur=')[0]);
        expect(names.slice(0, 2)).toEqual(['disagg_queue', 'disagg_ttft']);
        expect(names).toEqual(expect.arrayContaining(['ctx_e2e', 'gen_e2e', 'gen_kv_transfer']));
        // The generation worker's own (server_) event was replaced, not relayed.
        expect(text).not.toContain('server_e2e');
      },
    );
  },
);

describe('1.3 internal request signing', () => {
  it('signed generation calls verify with the key; a proxy without the key is refused, as is a wrong key', async () => {
    const right = await deploy('1.3', KEY, KEY);
    try {
      const ok = await right.client.completions.create({
        model: MODEL,
        prompt: 'hello there',
        max_tokens: 4,
      });
      expect(ok.choices).toHaveLength(1);
      const genCall = (await simRequests(right.gen)).recent.at(-1);
      expect(genCall?.auth).toMatch(/^sha256=[0-9a-f]{64}$/);
    } finally {
      await undeploy(right);
    }
    for (const proxyKey of [undefined, 'not-the-key']) {
      const wrong = await deploy('1.3', KEY, proxyKey);
      try {
        const error = await wrong.client.completions
          .create({ model: MODEL, prompt: 'hello there', max_tokens: 4 })
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        expect(error).toBeInstanceOf(OpenAI.BadRequestError);
        expect((error as Error).message).toContain(
          'Invalid internal disaggregated request authentication',
        );
        expect((await simRequests(wrong.gen)).recent.at(-1)?.auth ?? null).toEqual(
          proxyKey === undefined ? null : expect.stringMatching(/^sha256=/),
        );
      } finally {
        await undeploy(wrong);
      }
    }
  }, 60_000);
});
