import { describe, expect, it } from 'vitest';

import {
  defaultServeArgs,
  parseServeArgs,
  SERVE_FLAGS,
  serveHelpText,
} from '../../../../electron/sim/sim-cli-args';

describe('parseServeArgs', () => {
  it('applies upstream defaults (protocol 1.1)', () => {
    const r = parseServeArgs(['TinyLlama/TinyLlama-1.1B-Chat-v1.0']);
    expect(r).toEqual({ kind: 'ok', args: defaultServeArgs('TinyLlama/TinyLlama-1.1B-Chat-v1.0') });
    if (r.kind !== 'ok') return;
    expect(r.args).toMatchObject({
      host: 'localhost',
      port: 8000,
      backend: 'pytorch',
      log_level: 'info',
      max_batch_size: 2048,
      max_num_tokens: 8192,
      tp_size: 1,
      pp_size: 1,
      kv_cache_free_gpu_memory_fraction: 0.9,
    });
  });

  it.each([
    [['serve', 'm', '--port', '8001'], { model: 'm', port: 8001 }],
    [['m', '--port=8002', '--host', '0.0.0.0'], { port: 8002, host: '0.0.0.0' }],
    [['--tp_size', '2', 'm'], { model: 'm', tp_size: 2 }],
    [
      ['m', '--tensor_parallel_size', '4', '--pipeline_parallel_size', '2'],
      { tp_size: 4, pp_size: 2 },
    ],
    [['m', '--free_gpu_memory_fraction', '0.5'], { kv_cache_free_gpu_memory_fraction: 0.5 }],
    [['m', '--config', 'x.yaml'], { extra_llm_api_options: 'x.yaml' }],
    [
      ['m', '--extra_llm_api_options', 'y.yaml', '--server_role', 'context'],
      { extra_llm_api_options: 'y.yaml', server_role: 'context' },
    ],
    [
      ['m', '--trust_remote_code', '--enable_chunked_prefill'],
      { trust_remote_code: true, enable_chunked_prefill: true },
    ],
    [['m', '--backend', 'trt'], { backend: 'tensorrt' }],
    [['m', '--moe_expert_parallel_size', '8'], { ep_size: 8 }],
    [
      ['m', '--disagg_cluster_uri', 'etcd://127.0.0.1:2379'],
      { disagg_cluster_uri: 'etcd://127.0.0.1:2379' },
    ],
  ])('parses %j', (argv, expected) => {
    const r = parseServeArgs(argv);
    expect(r.kind).toBe('ok');
    if (r.kind === 'ok') expect(r.args).toMatchObject(expected);
  });

  it.each([
    [['m', '--bogus'], 'No such option: --bogus'],
    [
      ['m', '--server-role', 'context'],
      'No such option: --server-role (Possible options: --server_role)',
    ],
    [['m', '--port', 'abc'], "Invalid value for '--port': 'abc' is not a valid integer."],
    [['m', '--kv_cache_free_gpu_memory_fraction', 'x'], 'is not a valid float'],
    [['m', '--backend', 'onnx'], "Invalid value for '--backend': 'onnx' is not one of"],
    [['m', '--port'], "Option '--port' requires an argument."],
    [[], "Missing argument 'MODEL'."],
    [['a', 'b'], 'Got unexpected extra argument (b)'],
    [['m', '--trust_remote_code=1'], 'does not take a value'],
  ])('rejects %j', (argv, message) => {
    const r = parseServeArgs(argv);
    expect(r.kind).toBe('error');
    if (r.kind === 'error') expect(r.message).toContain(message);
  });

  it('answers --help with every flag and alias', () => {
    const r = parseServeArgs(['--help']);
    expect(r.kind).toBe('help');
    const text = serveHelpText();
    for (const flag of SERVE_FLAGS) for (const name of flag.names) expect(text).toContain(name);
  });
});
