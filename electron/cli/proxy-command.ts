// `disagg-console proxy`: a drop-in for `trtllm-serve disaggregated` (trtllm-protocol.md 1.2) that reads
// the same disagg_config.yaml / metadata_config.yaml, waits for the static workers like upstream, and
// runs the proxy server until SIGTERM/SIGINT, then drains. Layer: core (cli).
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';

import { formatIssue } from '../../shared/logic/config-issues';
import { parseDisaggConfig, parseMetadataConfig } from '../../shared/logic/config-parse';
import type { MetadataConfig } from '../../shared/model/config';
import {
  CliError,
  type CommandSpec,
  flagName,
  type FlagSpec,
  formatHelp,
  numberFlag,
  parseFlags,
  usageErrorLine,
} from '../core/cli-args';
import { fleetKvSourceFactory } from '../core/proxy/fleet-kv-feed';
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
import { exitOnStopSignals } from './cli-flags';
import { startCostReporting, startFleetCostLog } from './proxy-cost-log';

export { proxyOptionsFromConfig } from '../core/proxy/proxy-runtime';

type ProxyFlag =
  | 'configFile'
  | 'metadataFile'
  | 'startTimeoutS'
  | 'requestTimeoutS'
  | 'logLevel'
  | 'metricsLogIntervalS'
  | 'apiKey'
  | 'contextTimeoutS'
  | 'firstByteTimeoutS'
  | 'idleTimeoutS'
  | 'maxBodyBytes'
  | 'maxConcurrency'
  | 'maxQueue'
  | 'queueTargetS'
  | 'queueIntervalS'
  | 'queueTimeoutS'
  | 'drainTimeoutS'
  | 'totalTimeoutS'
  | 'headerTimeoutS'
  | 'bodyTimeoutS'
  | 'minBodyRateBytesPerS'
  | 'maxConnectionsPerClient'
  | 'maxLoopDelayS'
  | 'maxLoopUtilization'
  | 'workers';

const value = (
  key: ProxyFlag,
  names: string[],
  metavar: string,
  help: string,
): FlagSpec<ProxyFlag> => ({ key, names, takes: 'value', metavar, help });

/** trtllm-serve disaggregated's flags with its spellings, then ours. */
export const PROXY_COMMAND: CommandSpec<ProxyFlag> = {
  usage: 'Usage: disagg-console proxy -c disagg_config.yaml [options]',
  description:
    'A drop-in for `trtllm-serve disaggregated`: same files, same flags, same endpoints.',
  groups: [
    {
      title: 'Upstream flags',
      flags: [
        value('configFile', ['-c', '--config_file'], 'FILE', 'disagg_config.yaml (required)'),
        value(
          'metadataFile',
          ['-m', '--metadata_server_config_file'],
          'FILE',
          'metadata_config.yaml (etcd metadata mode)',
        ),
        value(
          'startTimeoutS',
          ['-t', '--server_start_timeout'],
          'SECONDS',
          "wait this long for the static workers' /health (default 180)",
        ),
        value(
          'requestTimeoutS',
          ['-r', '--request_timeout'],
          'SECONDS',
          'bound for one upstream call, whole stream included (default 180)',
        ),
        value(
          'logLevel',
          ['-l', '--log_level'],
          'LEVEL',
          'trace|debug|info|warning|error (default info)',
        ),
        value(
          'metricsLogIntervalS',
          ['--metrics-log-interval'],
          'SECONDS',
          'log [Statistics] counters every N seconds (default 0: off)',
        ),
      ],
    },
    {
      title: 'Additions',
      flags: [
        value(
          'apiKey',
          ['--api-key'],
          'KEY',
          'require "Authorization: Bearer KEY" (or api_key: in the file)',
        ),
        value(
          'contextTimeoutS',
          ['--context-timeout'],
          'SECONDS',
          'context phase bound (default 60)',
        ),
        value(
          'firstByteTimeoutS',
          ['--first-byte-timeout'],
          'SECONDS',
          'generation: bound to response headers (default 60)',
        ),
        value(
          'idleTimeoutS',
          ['--idle-timeout'],
          'SECONDS',
          'generation stream: longest silence (default 30)',
        ),
        value(
          'maxBodyBytes',
          ['--max-body-bytes'],
          'N',
          'larger request bodies get 413 (default 33554432)',
        ),
        value(
          'maxConcurrency',
          ['--max-concurrency'],
          'N',
          "requests served at once (default 4096); more wait in a queue.\nSet it to what the workers batch (sum of the generation workers'\nmax_batch_size, plus the requests in their context phase: a slot\nis held from admission to the last token) so excess load waits\nhere, bounded, instead of inside the workers",
        ),
        value(
          'maxQueue',
          ['--max-queue'],
          'N',
          'queued requests beyond that get 429 + Retry-After (default 1024)',
        ),
        value(
          'queueTargetS',
          ['--queue-target'],
          'SECONDS',
          'acceptable queue wait (default 0.1): once the queue stays above it\nfor a whole --queue-interval, requests that would wait longer get\n503 + Retry-After at once',
        ),
        value(
          'queueIntervalS',
          ['--queue-interval'],
          'SECONDS',
          'how long a queue may stand above target before shedding (default 1)',
        ),
        value(
          'queueTimeoutS',
          ['--queue-timeout'],
          'SECONDS',
          'longest any request waits in the queue, then 503 (default 5)',
        ),
        value(
          'maxLoopDelayS',
          ['--max-loop-delay'],
          'SECONDS',
          "CPU-pressure shedding (default 0: off; 0.02 is a start): once the event loop's\nmean delay stays above this for 0.3 s, the proxy's own CPU is the\nbottleneck: it caps the requests it holds and answers the excess\n503 + Retry-After at headers time, before reading their bodies",
        ),
        value(
          'maxLoopUtilization',
          ['--max-loop-utilization'],
          'FRACTION',
          'the same on event-loop utilization, 0 to 1 (default 1: not watched)',
        ),
        value(
          'drainTimeoutS',
          ['--drain-timeout'],
          'SECONDS',
          'on SIGTERM, let streams finish this long (default 30)',
        ),
        value(
          'totalTimeoutS',
          ['--total-timeout'],
          'SECONDS',
          "one request from its body's arrival to its last byte, queue wait\nincluded (default 300): 504, or an SSE error once streaming",
        ),
        value(
          'headerTimeoutS',
          ['--header-timeout'],
          'SECONDS',
          'request line and headers must arrive within this (default 20): 408',
        ),
        value(
          'bodyTimeoutS',
          ['--body-timeout'],
          'SECONDS',
          'the request body must arrive within this (default 30): 408.\nRead before a request takes a --max-concurrency slot',
        ),
        value(
          'minBodyRateBytesPerS',
          ['--min-body-rate'],
          'BYTES_PER_S',
          'slowest acceptable request body after a 5 s grace (default 1024;\n0: off): 408, so a trickling client cannot hold a connection',
        ),
        value(
          'maxConnectionsPerClient',
          ['--max-connections-per-client'],
          'N',
          'open connections one client address may hold (default 1024;\n0: no limit); requests on more get 429 and the connection closes.\nCounted per process with --workers',
        ),
        value(
          'workers',
          ['--workers'],
          'N',
          `proxy processes sharing the port (default: half the cores, at\nmost 8; here ${suggestedWorkerCount()}). --max-concurrency and --max-queue are split\nbetween them so they hold for the whole fleet; a process that\ndies is restarted`,
        ),
      ],
    },
  ],
  epilog: `kv_cache_aware routing: token-id prompts are hashed exactly like upstream; text prompts need a
tokenizer and upstream loads the model's HF tokenizer, which this proxy cannot download, so text is
tokenised by a built-in stand-in (routing by cache hits for text prompts is approximate).`,
};

export const PROXY_HELP = formatHelp(PROXY_COMMAND);

interface ProxyArgs extends ProxyRunSettings {
  configFile?: string;
  metadataFile?: string;
  metricsLogIntervalS: number;
  drainTimeoutS: number;
  workers: number;
  isHelp: boolean;
}

type ParsedArgs = { ok: true; args: ProxyArgs } | { ok: false; message: string };

/** The flags whose value is a non-negative number of seconds or a count. */
const NUMERIC_FLAGS = [
  'startTimeoutS',
  'requestTimeoutS',
  'metricsLogIntervalS',
  'contextTimeoutS',
  'firstByteTimeoutS',
  'idleTimeoutS',
  'maxBodyBytes',
  'maxConcurrency',
  'maxQueue',
  'queueTargetS',
  'queueIntervalS',
  'queueTimeoutS',
  'drainTimeoutS',
  'totalTimeoutS',
  'headerTimeoutS',
  'bodyTimeoutS',
  'minBodyRateBytesPerS',
  'maxConnectionsPerClient',
  'maxLoopDelayS',
] as const satisfies readonly ProxyFlag[];

/** Parses the command line; accepts `--flag value` and `--flag=value`. */
export function parseProxyArgs(argv: readonly string[]): ParsedArgs {
  const parsed = parseFlags(PROXY_COMMAND, argv);
  if (!parsed.ok) return parsed;
  const args: ProxyArgs = {
    ...DEFAULT_RUN_SETTINGS,
    metricsLogIntervalS: 0,
    drainTimeoutS: 30,
    workers: suggestedWorkerCount(),
    isHelp: parsed.isHelp,
  };
  const v = parsed.values as Partial<Record<ProxyFlag, string>>;
  const nameOf = (key: ProxyFlag): string =>
    flagName(PROXY_COMMAND.groups.flatMap((g) => g.flags).find((f) => f.key === key) as FlagSpec);
  try {
    if (v.configFile !== undefined) args.configFile = v.configFile;
    if (v.metadataFile !== undefined) args.metadataFile = v.metadataFile;
    if (v.apiKey !== undefined) args.apiKey = v.apiKey;
    if (v.logLevel !== undefined) {
      const lv = parseLogLevel(v.logLevel);
      if (!lv) {
        throw new CliError(
          `${nameOf('logLevel')} must be one of ${Object.keys(LOG_LEVEL_ORDER).join(', ')}, got '${v.logLevel}'`,
        );
      }
      args.logLevel = lv;
    }
    for (const key of NUMERIC_FLAGS) {
      const raw = v[key];
      if (raw !== undefined) args[key] = numberFlag(nameOf(key), raw, { min: 0 });
    }
    if (v.maxLoopUtilization !== undefined) {
      args.maxLoopUtilization = numberFlag(nameOf('maxLoopUtilization'), v.maxLoopUtilization, {
        min: 0,
        max: 1,
      });
    }
    if (v.workers !== undefined) {
      args.workers = numberFlag(nameOf('workers'), v.workers, { min: 1, isInteger: true });
    }
  } catch (err) {
    if (err instanceof CliError) return { ok: false, message: err.message };
    throw err;
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
    process.stderr.write(usageErrorLine('proxy', parsed.message));
    return 2;
  }
  const args = parsed.args;
  if (args.isHelp) {
    process.stdout.write(PROXY_HELP);
    return 0;
  }
  if (args.configFile === undefined) {
    process.stderr.write(usageErrorLine('proxy', '-c/--config_file is required'));
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
      // One poller for the fleet's kv_cache_aware routers (fleet-kv-feed.ts).
      overrides: place ? { kvEventSource: fleetKvSourceFactory(place.index) } : undefined,
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
  let costTimer: NodeJS.Timeout | undefined;
  if (args.metricsLogIntervalS > 0) {
    statsTimer = startStatisticsLog(proxy, args.metricsLogIntervalS, log);
    costTimer = startCostReporting(proxy, args.metricsLogIntervalS, place?.index, log);
  }

  exitOnStopSignals(
    (signal) => {
      log('info', `${signal}: draining (up to ${args.drainTimeoutS} s)`);
      if (statsTimer) clearInterval(statsTimer);
      if (costTimer) clearInterval(costTimer);
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
  const stopCostLog =
    args.metricsLogIntervalS > 0 ? startFleetCostLog(args.metricsLogIntervalS, log) : undefined;
  exitOnStopSignals(
    (signal) => {
      log('info', `${signal}: draining ${args.workers} processes (up to ${args.drainTimeoutS} s)`);
      stopCostLog?.();
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
