// `disagg-console proxy` flags (upstream's names and meanings, trtllm-protocol.md 1.2) and the mapping
// from a parsed disagg_config.yaml to proxy options.
import { describe, expect, it } from 'vitest';

import { parseProxyArgs, proxyOptionsFromConfig } from '../../../../electron/cli/proxy-command';
import { parseDisaggConfig } from '../../../../shared/logic/config-parse';

describe('parseProxyArgs', () => {
  it('takes upstream flags in short, long and = forms', () => {
    const r = parseProxyArgs([
      '-c',
      'a.yaml',
      '-m',
      'm.yaml',
      '-t',
      '5',
      '--request_timeout=7',
      '-l',
      'debug',
      '--metrics-log-interval',
      '2',
      '--api-key',
      'k',
    ]);
    expect(r.ok && r.args).toMatchObject({
      configFile: 'a.yaml',
      metadataFile: 'm.yaml',
      startTimeoutS: 5,
      requestTimeoutS: 7,
      logLevel: 'debug',
      metricsLogIntervalS: 2,
      apiKey: 'k',
    });
  });
  it('has upstream defaults', () => {
    const r = parseProxyArgs(['-c', 'a.yaml']);
    expect(r.ok && r.args).toMatchObject({
      startTimeoutS: 180,
      requestTimeoutS: 180,
      logLevel: 'info',
      metricsLogIntervalS: 0,
    });
  });
  it('takes the admission flags, in seconds like the other timeouts, and maps them to proxy options in ms', () => {
    const r = parseProxyArgs([
      '-c',
      'a.yaml',
      '--max-concurrency',
      '64',
      '--max-queue=128',
      '--queue-target',
      '0.25',
      '--queue-interval',
      '2',
      '--queue-timeout',
      '10',
    ]);
    expect(r.ok && r.args).toMatchObject({
      maxConcurrency: 64,
      maxQueue: 128,
      queueTargetS: 0.25,
      queueIntervalS: 2,
      queueTimeoutS: 10,
    });
    const cfg = parseDisaggConfig(
      'context_servers:\n  num_instances: 1\n  urls: ["localhost:8001"]\ngeneration_servers:\n  num_instances: 1\n  urls: ["localhost:8002"]\n',
      'x.yaml',
    );
    if (!cfg.ok || !r.ok) throw new Error('parse failed');
    expect(proxyOptionsFromConfig(cfg.value, r.args, {})).toMatchObject({
      maxConcurrency: 64,
      maxQueue: 128,
      queueTargetMs: 250,
      queueIntervalMs: 2000,
      queueTimeoutMs: 10_000,
    });
  });
  it('keeps admission defaults that never queue under light load', () => {
    const r = parseProxyArgs(['-c', 'a.yaml']);
    expect(r.ok && r.args).toMatchObject({
      maxConcurrency: 4096,
      maxQueue: 1024,
      queueTargetS: 0.1,
      queueIntervalS: 1,
      queueTimeoutS: 5,
    });
  });
  it('takes the CPU-pressure flags (issue #16): off by default, SECONDS turns it on, utilization within 0..1', () => {
    const d = parseProxyArgs(['-c', 'a.yaml']);
    expect(d.ok && d.args).toMatchObject({ maxLoopDelayS: 0, maxLoopUtilization: 1 });
    const r = parseProxyArgs([
      '-c',
      'a.yaml',
      '--max-loop-delay',
      '0.02',
      '--max-loop-utilization=0.95',
    ]);
    expect(r.ok && r.args).toMatchObject({ maxLoopDelayS: 0.02, maxLoopUtilization: 0.95 });
    const cfg = parseDisaggConfig(
      'context_servers:\n  num_instances: 1\n  urls: ["localhost:8001"]\ngeneration_servers:\n  num_instances: 1\n  urls: ["localhost:8002"]\n',
      'x.yaml',
    );
    if (!cfg.ok || !r.ok || !d.ok) throw new Error('parse failed');
    expect(proxyOptionsFromConfig(cfg.value, r.args, {})).toMatchObject({
      maxLoopDelayMs: 20,
      maxLoopUtilization: 0.95,
    });
    expect(proxyOptionsFromConfig(cfg.value, d.args, {})).toMatchObject({ maxLoopDelayMs: 0 });
    const bad = parseProxyArgs(['-c', 'a.yaml', '--max-loop-utilization', '1.5']);
    expect(bad).toMatchObject({ ok: false });
    expect(!bad.ok && bad.message).toContain('--max-loop-utilization');
  });
  it('takes the defence flags (issue #15) and maps them to proxy options', () => {
    const r = parseProxyArgs([
      '-c',
      'a.yaml',
      '--total-timeout',
      '90',
      '--header-timeout=5',
      '--body-timeout',
      '7',
      '--min-body-rate',
      '0',
      '--max-connections-per-client',
      '16',
    ]);
    expect(r.ok && r.args).toMatchObject({
      totalTimeoutS: 90,
      headerTimeoutS: 5,
      bodyTimeoutS: 7,
      minBodyRateBytesPerS: 0,
      maxConnectionsPerClient: 16,
    });
    const cfg = parseDisaggConfig(
      'context_servers:\n  num_instances: 1\n  urls: ["localhost:8001"]\ngeneration_servers:\n  num_instances: 1\n  urls: ["localhost:8002"]\n',
      'x.yaml',
    );
    if (!cfg.ok || !r.ok) throw new Error('parse failed');
    expect(proxyOptionsFromConfig(cfg.value, r.args, {})).toMatchObject({
      totalTimeoutMs: 90_000,
      headersTimeoutMs: 5_000,
      bodyTimeoutMs: 7_000,
      minBodyBytesPerS: 0,
      maxConnectionsPerClient: 16,
    });
  });
  it('has defence defaults that bound slow clients without touching normal ones', () => {
    const r = parseProxyArgs(['-c', 'a.yaml']);
    expect(r.ok && r.args).toMatchObject({
      totalTimeoutS: 300,
      headerTimeoutS: 20,
      bodyTimeoutS: 30,
      minBodyRateBytesPerS: 1024,
      maxConnectionsPerClient: 1024,
    });
  });
  it.each([
    [['--queue-target', 'soon'], /--queue-target expects a number >= 0, got 'soon'/],
    [['--total-timeout', '-1'], /--total-timeout expects a number >= 0, got '-1'/],
    [['--bogus', '1'], /^unknown flag --bogus$/],
    [
      ['--max-concurency', '3'],
      /^unknown flag --max-concurency; did you mean --max-concurrency\?$/,
    ],
    [['-t', 'soon'], /--server_start_timeout expects a number >= 0/],
    [['-l', 'loud'], /--log_level must be one of trace, debug, info, warning, error, got 'loud'/],
    [['-c'], /needs a value/],
  ])('refuses %j', (argv, re) => {
    const r = parseProxyArgs(argv);
    expect(!r.ok && r.message).toMatch(re);
  });
});

describe('proxyOptionsFromConfig', () => {
  const yaml = `hostname: 0.0.0.0\nport: 8123\nmax_retries: 2\napi_key: sk-file\ncontext_servers:\n  num_instances: 1\n  urls: ["localhost:8001"]\n  router:\n    type: load_balancing\n    use_tokens: true\ngeneration_servers:\n  num_instances: 1\n  urls: ["localhost:8002"]\n  router:\n    type: kv_cache_aware\nconditional_disagg_config:\n  max_local_prefill_length: 100\n`;
  it('maps the file and flags', () => {
    const cfg = parseDisaggConfig(yaml, 'x.yaml');
    expect(cfg.ok).toBe(true);
    const a = parseProxyArgs(['-c', 'x.yaml', '-r', '20']);
    if (!cfg.ok || !a.ok) return;
    const o = proxyOptionsFromConfig(cfg.value, a.args, {});
    expect(o).toMatchObject({
      host: '0.0.0.0',
      port: 8123,
      maxRetries: 2,
      apiKey: 'sk-file',
      contextUrls: ['localhost:8001'],
      generationUrls: ['localhost:8002'],
      conditionalMaxLocalPrefillLength: 100,
      requestTimeoutMs: 20_000,
      contextTimeoutMs: 20_000,
      isGenOnlyBenchmark: false,
    });
    expect(o.contextRouter).toMatchObject({ type: 'load_balancing', use_tokens: true });
    expect(o.generationRouter?.type).toBe('kv_cache_aware');
    expect(
      proxyOptionsFromConfig(
        cfg.value,
        { ...a.args, apiKey: 'flag' },
        { TRTLLM_DISAGG_BENCHMARK_GEN_ONLY: '1' },
      ),
    ).toMatchObject({ apiKey: 'flag', isGenOnlyBenchmark: true });
  });
});
