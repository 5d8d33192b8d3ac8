// Startup of the simulated worker as a real process: flags, options file validation, GPU count, exit codes.
import { describe, expect, it } from 'vitest';

import { postJson, runToExit, startSimWorker, tempFile } from './sim-process';

describe('sim-worker command line', () => {
  it('prints every flag for --help and exits 0', async () => {
    const r = await runToExit(['--help']);
    expect(r.code).toBe(0);
    for (const flag of [
      '--extra_llm_api_options',
      '--tp_size',
      '--tensor_parallel_size',
      '--server_role',
      '--disagg_cluster_uri',
      '--metadata_server_config_file',
      '--kv_cache_free_gpu_memory_fraction',
    ]) {
      expect(r.stdout).toContain(flag);
    }
  });

  it.each([
    [['m', '--no_such_flag', '1'], 'Error: No such option: --no_such_flag'],
    [
      ['m', '--port', 'eighty'],
      "Error: Invalid value for '--port': 'eighty' is not a valid integer.",
    ],
    [[], "Error: Missing argument 'MODEL'."],
  ])('rejects %j with a usage error (exit 2)', async (args, message) => {
    const r = await runToExit(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('Usage: disagg-console sim-worker [serve] [OPTIONS] MODEL');
    expect(r.stderr).toContain(message);
  });

  it('refuses an invalid --extra_llm_api_options file, naming the problem and the line', async () => {
    const file = tempFile(
      'ctx.yaml',
      'disable_overlap_scheduler: true\nkv_cache_config:\n  free_gpu_memory_fraction: 1.5\nnot_an_option: 3\n',
    );
    const r = await runToExit(['m', '--extra_llm_api_options', file]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`invalid --extra_llm_api_options file ${file}`);
    expect(r.stderr).toContain('not_an_option');
    expect(r.stderr).toMatch(/ctx\.yaml:3:\d+ kv_cache_config\.free_gpu_memory_fraction/);
  });

  it('refuses a missing options file', async () => {
    const r = await runToExit(['m', '--config', '/nonexistent/opts.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("cannot read --extra_llm_api_options file '/nonexistent/opts.yaml'");
  });

  it.each([
    [
      { CUDA_VISIBLE_DEVICES: '0' },
      ['--tp_size', '2'],
      'tp_size (2) x pp_size (1) = 2 GPUs are needed, but 1 are visible (CUDA_VISIBLE_DEVICES=0)',
    ],
    [{ CUDA_VISIBLE_DEVICES: '0,1,2' }, ['--tp_size', '2'], '2 GPUs are needed, but 3 are visible'],
    [
      { CUDA_VISIBLE_DEVICES: undefined, DISAGG_SIM_GPU_COUNT: '4' },
      [],
      '1 GPUs are needed, but 4 are visible (CUDA_VISIBLE_DEVICES=<unset>)',
    ],
    [{ CUDA_VISIBLE_DEVICES: '' }, [], 'No CUDA GPUs are available'],
  ])(
    'exits non-zero when the visible GPUs (%j) do not match tp x pp',
    async (env, extra, message) => {
      const r = await runToExit(['m', ...extra], env);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(message);
    },
  );

  it('requires --server_role with a disagg cluster, as upstream asserts', async () => {
    const r = await runToExit(['m', '--disagg_cluster_uri', 'http://127.0.0.1:1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--server_role is required');
  });

  it('starts with tp x pp matching CUDA_VISIBLE_DEVICES and takes YAML over CLI values', async () => {
    const file = tempFile('w.yaml', 'max_batch_size: 7\nmax_num_tokens: 512\n');
    const w = await startSimWorker(
      [
        'serve',
        '/tmp',
        '--tp_size',
        '2',
        '--pp_size',
        '2',
        '--max_batch_size',
        '99',
        '--config',
        file,
      ],
      {
        CUDA_VISIBLE_DEVICES: '4,5,6,7',
        DISAGG_SIM_GPU: 'h200',
      },
    );
    try {
      const info = (await (await fetch(`${w.url}/_sim/info`)).json()) as Record<string, unknown>;
      expect(info).toMatchObject({
        simulated: true,
        gpus: ['4', '5', '6', '7'],
        tp_size: 2,
        pp_size: 2,
        max_batch_size: 7,
        max_num_tokens: 512,
        gpu_profile: 'h200',
      });
      // A local directory is reported by its basename (protocol 1.1).
      const models = (await (await fetch(`${w.url}/v1/models`)).json()) as {
        data: { id: string }[];
      };
      expect(models.data[0]?.id).toBe('tmp');
      // uvicorn-style access log lines.
      await expect
        .poll(() => w.output(), { timeout: 20_000 })
        .toContain('"GET /v1/models HTTP/1.1" 200 OK');
      expect(w.output()).toContain('Loading weights: 100%');
      // No disable_overlap_scheduler and no cache_transceiver_config: this worker cannot serve disaggregated requests.
      const ctxReq = await postJson(`${w.url}/v1/completions`, {
        model: 'm',
        prompt: 'hi',
        disaggregated_params: { request_type: 'context_only' },
      });
      expect(ctxReq.status).toBe(400);
      expect((ctxReq.body as { message: string }).message).toBe(
        'Context only requests are not supported in pytorch backend when overlap is enabled.',
      );
      const genReq = await postJson(`${w.url}/v1/completions`, {
        model: 'm',
        prompt: [1, 2],
        disaggregated_params: {
          request_type: 'generation_only',
          ctx_request_id: 1,
          first_gen_tokens: [5],
        },
      });
      expect(genReq.status).toBe(400);
      expect((genReq.body as { message: string }).message).toContain(
        'need cache_transceiver_config.backend',
      );
    } finally {
      await w.stop();
    }
  });
});
