// `disagg-console proxy`: a drop-in for `trtllm-serve disaggregated` (trtllm-protocol.md 1.2) that reads
// the same disagg_config.yaml / metadata_config.yaml, waits for the static workers like upstream, and
// runs the proxy server until SIGTERM/SIGINT, then drains. Layer: core (cli).
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';

import { formatIssue } from '../../shared/logic/config-issues';
import { parseDisaggConfig, parseMetadataConfig } from '../../shared/logic/config-parse';
import type { MetadataConfig } from '../../shared/model/config';
import {
  fleetPlace,
  fleetProcessSettings,
  ProxyFleet,
  suggestedWorkerCount,
} from '../core/proxy/proxy-fleet';
import type { ProxyRunSettings } from '../core/proxy/proxy-runtime';
import {
  DEFAULT_RUN_SETTINGS,
  ProxyStartError,
  startProxyRuntime,
} from '../core/proxy/proxy-runtime';
import type { ProxyServer } from '../core/proxy/proxy-server';
import type { LogLevel } from '../core/proxy/types';
import { LOG_LEVEL_ORDER, parseLogLevel } from '../core/proxy/types';
import { exitOnStopSignals, splitFlag } from './cli-flags';

export { proxyOptionsFromConfig } from '../core/proxy/proxy-runtime';

export const PROXY_HELP = `Usage: disagg-console proxy -c disagg_config.yaml [options]

A drop-in for \`trtllm-serve disaggregated\`: same files, same flags, same endpoints.

Upstream flags:
  -c, --config_file FILE                 disagg_config.yaml (required)
  -m, --metadata_server_config_file FILE metadata_config.yaml (etcd metadata mode)
  -t, --server_start_timeout SECONDS     wait this long for the static workers' /health (default 180)
  -r, --request_timeout SECONDS          bound for one upstream call, whole stream included (default 180)
  -l, --log_level LEVEL                  trace|debug|info|warning|error (default info)
      --metrics-log-interval SECONDS     log [Statistics] counters every N seconds (default 0: off)

Additions:
      --api-key KEY                      require "Authorization: Bearer KEY" (or api_key: in the file)
      --context-timeout SECONDS          context phase bound (default 60)
      --first-byte-timeout SECONDS       generation: bound to response headers (default 60)
      --idle-timeout SECONDS             generation stream: longest silence (default 30)
      --max-body-bytes N                 larger request bodies get 413 (default 33554432)
      --max-concurrency N                requests served at once (default 4096); more wait in a queue.
                                         Set it to what the workers batch (sum of the generation workers'
                                         max_batch_size, plus the requests in their context phase: a slot
                                         is held from admission to the last token) so excess load waits
                                         here, bounded, instead of inside the workers
      --max-queue N                      queued requests beyond that get 429 + Retry-After (default 1024)
      --queue-target SECONDS             acceptable queue wait (default 0.1): once the queue stays above it
                                         for a whole --queue-interval, requests that would wait longer get
                                         503 + Retry-After at once
      --queue-interval SECONDS           how long a queue may stand above target before shedding (default 1)
      --queue-timeout SECONDS            longest any request waits in the queue, then 503 (default 5)
      --drain-timeout SECONDS            on SIGTERM, let streams finish this long (default 30)
      --total-timeout SECONDS            one request from its body's arrival to its last byte, queue wait
                                         included (default 300): 504, or an SSE error once streaming
      --header-timeout SECONDS           request line and headers must arrive within this (default 20): 408
      --body-timeout SECONDS             the request body must arrive within this (default 30): 408.
                                         Read before a request takes a --max-concurrency slot
      --min-body-rate BYTES_PER_S        slowest acceptable request body after a 5 s grace (default 1024;
                                         0: off): 408, so a trickling client cannot hold a connection
      --max-connections-per-client N     open connections one client address may hold (default 1024;
                                         0: no limit); requests on more get 429 and the connection closes.
                                         Counted per process with --workers
      --workers N                        proxy processes sharing the port (default: half the cores, at
                                         most 8; here ${suggestedWorkerCount()}). --max-concurrency and --max-queue are split
                                         between them so they hold for the whole fleet; a process that
                                         dies is restarted

kv_cache_aware routing: token-id prompts are hashed exactly like upstream; text prompts need a
tokenizer and upstream loads the model's HF tokenizer, which this proxy cannot download, so text is
tokenised by a built-in stand-in (routing by cache hits for text prompts is approximate).
`;

interface ProxyArgs extends ProxyRunSettings {
  configFile?: string;
  metadataFile?: string;
  metricsLogIntervalS: number;
  drainTimeoutS: number;
  workers: number;
  isHelp: boolean;
}

type ParsedArgs = { ok: true; args: ProxyArgs } | { ok: false; message: string };

/** Parses the command line; accepts `--flag value` and `--flag=value`. */
export function parseProxyArgs(argv: readonly string[]): ParsedArgs {
  const args: ProxyArgs = {
    ...DEFAULT_RUN_SETTINGS,
    metricsLogIntervalS: 0,
    drainTimeoutS: 30,
    workers: suggestedWorkerCount(),
    isHelp: false,
  };
  const num = (flag: string, v: string): number | string => {
    const n = Number(v);
    return Number.isFinite(n) && n >= 0 ? n : `${flag} expects a non-negative number, got '${v}'`;
  };
  for (let i = 0; i < argv.length; i++) {
    const { flag, value } = splitFlag(argv[i] as string);
    if (flag === '-h' || flag === '--help') {
      args.isHelp = true;
      continue;
    }
    const take = (): string | undefined => {
      if (value !== undefined) return value;
      const v = argv[i + 1];
      if (v === undefined) return undefined;
      i++;
      return v;
    };
    const v = take();
    if (v === undefined) return { ok: false, message: `${flag} needs a value` };
    const setNum = (apply: (n: number) => void): string | undefined => {
      const n = num(flag, v);
      if (typeof n === 'string') return n;
      apply(n);
      return undefined;
    };
    let err: string | undefined;
    switch (flag) {
      case '-c':
      case '--config_file':
        args.configFile = v;
        break;
      case '-m':
      case '--metadata_server_config_file':
        args.metadataFile = v;
        break;
      case '-t':
      case '--server_start_timeout':
        err = setNum((n) => (args.startTimeoutS = n));
        break;
      case '-r':
      case '--request_timeout':
        err = setNum((n) => (args.requestTimeoutS = n));
        break;
      case '-l':
      case '--log_level': {
        const lv = parseLogLevel(v);
        if (!lv) return { ok: false, message: `unknown log level '${v}'` };
        args.logLevel = lv;
        break;
      }
      case '--metrics-log-interval':
        err = setNum((n) => (args.metricsLogIntervalS = n));
        break;
      case '--api-key':
        args.apiKey = v;
        break;
      case '--context-timeout':
        err = setNum((n) => (args.contextTimeoutS = n));
        break;
      case '--first-byte-timeout':
        err = setNum((n) => (args.firstByteTimeoutS = n));
        break;
      case '--idle-timeout':
        err = setNum((n) => (args.idleTimeoutS = n));
        break;
      case '--max-body-bytes':
        err = setNum((n) => (args.maxBodyBytes = n));
        break;
      case '--max-concurrency':
        err = setNum((n) => (args.maxConcurrency = n));
        break;
      case '--max-queue':
        err = setNum((n) => (args.maxQueue = n));
        break;
      case '--queue-target':
        err = setNum((n) => (args.queueTargetS = n));
        break;
      case '--queue-interval':
        err = setNum((n) => (args.queueIntervalS = n));
        break;
      case '--queue-timeout':
        err = setNum((n) => (args.queueTimeoutS = n));
        break;
      case '--drain-timeout':
        err = setNum((n) => (args.drainTimeoutS = n));
        break;
      case '--total-timeout':
        err = setNum((n) => (args.totalTimeoutS = n));
        break;
      case '--header-timeout':
        err = setNum((n) => (args.headerTimeoutS = n));
        break;
      case '--body-timeout':
        err = setNum((n) => (args.bodyTimeoutS = n));
        break;
      case '--min-body-rate':
        err = setNum((n) => (args.minBodyRateBytesPerS = n));
        break;
      case '--max-connections-per-client':
        err = setNum((n) => (args.maxConnectionsPerClient = n));
        break;
      case '--workers':
        err = setNum((n) => (args.workers = n));
        if (!err && (!Number.isInteger(args.workers) || args.workers < 1)) {
          err = `--workers expects a whole number of processes, at least 1, got '${v}'`;
        }
        break;
      default:
        return { ok: false, message: `unknown option '${flag}'` };
    }
    if (err) return { ok: false, message: err };
  }
  return { ok: true, args };
}

function readFile(path: string): string | Error {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}

/** Runs the command; resolves with an exit code on failure, or undefined while serving. */
export async function runProxyCommand(argv: string[]): Promise<number | undefined> {
  const parsed = parseProxyArgs(argv);
  if (!parsed.ok) {
    process.stderr.write(`proxy: ${parsed.message}\n\n${PROXY_HELP}`);
    return 2;
  }
  const args = parsed.args;
  if (args.isHelp) {
    process.stdout.write(PROXY_HELP);
    return 0;
  }
  if (args.configFile === undefined) {
    process.stderr.write(`proxy: -c/--config_file is required\n\n${PROXY_HELP}`);
    return 2;
  }
  const level = LOG_LEVEL_ORDER[args.logLevel];
  const log = (lv: LogLevel, msg: string): void => {
    if (LOG_LEVEL_ORDER[lv] >= level) process.stderr.write(`[proxy] ${lv.toUpperCase()} ${msg}\n`);
  };

  const text = readFile(args.configFile);
  if (text instanceof Error) {
    process.stderr.write(`proxy: cannot read ${args.configFile}: ${text.message}\n`);
    return 1;
  }
  const isGenOnly = process.env['TRTLLM_DISAGG_BENCHMARK_GEN_ONLY'] === '1';
  const cfgResult = parseDisaggConfig(text, args.configFile, {
    genOnlyBenchmark: isGenOnly,
    hasMetadataServer: args.metadataFile !== undefined,
  });
  if (!cfgResult.ok) {
    for (const issue of cfgResult.issues) process.stderr.write(`${formatIssue(issue)}\n`);
    return 1;
  }
  for (const issue of cfgResult.issues) log('warning', formatIssue(issue));
  const cfg = cfgResult.value;

  let meta: MetadataConfig | undefined;
  if (args.metadataFile !== undefined) {
    const mtext = readFile(args.metadataFile);
    if (mtext instanceof Error) {
      process.stderr.write(`proxy: cannot read ${args.metadataFile}: ${mtext.message}\n`);
      return 1;
    }
    const m = parseMetadataConfig(mtext, args.metadataFile);
    if (!m.ok) {
      for (const issue of m.issues) process.stderr.write(`${formatIssue(issue)}\n`);
      return 1;
    }
    meta = m.value;
  }

  const announce = (port: number): void =>
    void process.stdout.write(`Disaggregated proxy listening on http://${cfg.hostname}:${port}\n`);
  if (cluster.isPrimary && args.workers > 1) return runFleetPrimary(args, announce, log);
  let settings: ProxyRunSettings = args;
  const place = fleetPlace();
  if (place) settings = fleetProcessSettings(args, place.size, place.index);

  let runtime: Awaited<ReturnType<typeof startProxyRuntime>>;
  try {
    runtime = await startProxyRuntime({
      config: cfg,
      metadata: meta,
      settings,
      env: process.env,
      log: place ? (lv, msg) => log(lv, `[${place.index}] ${msg}`) : log,
      // The fleet's primary announces the port once every process listens.
      onListening: place
        ? (port) => log('debug', `process ${place.index} listening on ${port}`)
        : announce,
    });
  } catch (err) {
    if (err instanceof ProxyStartError) {
      process.stderr.write(`proxy: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  const proxy = runtime.proxy;

  let statsTimer: NodeJS.Timeout | undefined;
  if (args.metricsLogIntervalS > 0) {
    statsTimer = startStatisticsLog(proxy, args.metricsLogIntervalS, log);
  }

  exitOnStopSignals(
    (signal) => {
      log('info', `${signal}: draining (up to ${args.drainTimeoutS} s)`);
      if (statsTimer) clearInterval(statsTimer);
      return runtime.stop(args.drainTimeoutS * 1000);
    },
    (err) => log('error', `shutdown failed: ${String(err)}`),
  );
  return undefined;
}

/**
 * The primary of `--workers N`: the config was checked here once; it forks the processes (each runs this
 * command again as a cluster worker) and stops them on SIGTERM/SIGINT. Resolves undefined while serving.
 */
function runFleetPrimary(
  args: ProxyArgs,
  announce: (port: number) => void,
  log: (lv: LogLevel, m: string) => void,
): Promise<number | undefined> {
  try {
    fleetProcessSettings(args, args.workers, 0);
  } catch (err) {
    process.stderr.write(`proxy: ${(err as Error).message}\n`);
    return Promise.resolve(2);
  }
  const fleet = new ProxyFleet({
    size: args.workers,
    drainTimeoutS: args.drainTimeoutS,
    log,
    onListening: (port) => {
      log(
        'info',
        `${args.workers} proxy processes (pids ${fleet.pids().join(', ')}) serve port ${port}`,
      );
      announce(port);
    },
    onFailed: (code) => process.exit(code),
  });
  fleet.start();
  exitOnStopSignals(
    (signal) => {
      log('info', `${signal}: draining ${args.workers} processes (up to ${args.drainTimeoutS} s)`);
      return fleet.stop();
    },
    (err) => log('error', `shutdown failed: ${String(err)}`),
  );
  return Promise.resolve(undefined);
}

/** Upstream's `--metrics-log-interval` line, from the per-worker counters. */
function startStatisticsLog(
  proxy: ProxyServer,
  intervalS: number,
  log: (lv: LogLevel, m: string) => void,
): NodeJS.Timeout {
  const t = setInterval(() => {
    const ws = proxy.workers();
    const sum = (role: string, f: (w: (typeof ws)[number]) => number): number =>
      ws.filter((w) => w.role === role).reduce((a, w) => a + f(w), 0);
    const tc = sum('context', (w) => w.requests);
    const tg = sum('generation', (w) => w.requests);
    log(
      'info',
      `[Statistics] total_context_requests=${tc}, completed_context_requests=${tc - sum('context', (w) => w.inFlight)}, ` +
        `total_generation_requests=${tg}, completed_generation_requests=${tg - sum('generation', (w) => w.inFlight)}`,
    );
  }, intervalS * 1000);
  t.unref();
  return t;
}
