// The simulated `trtllm-serve` worker process: resolves the command line, the `--extra_llm_api_options` file
// and the simulation env vars into settings, checks the GPUs it "has" (CUDA_VISIBLE_DEVICES vs tp x pp),
// logs a loading phase like a real server, serves the HTTP API, registers in etcd / the disagg cluster and
// shuts down gracefully on SIGTERM/SIGINT. Layer: electron/sim (plain Node).
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';

import { defaultDisaggClusterConfig } from '../../shared/logic/config-cluster';
import { formatIssue } from '../../shared/logic/config-issues';
import { parseMetadataConfig, parseWorkerOptions } from '../../shared/logic/config-parse';
import { dialectOf } from '../../shared/logic/trtllm-dialect';
import type { DisaggClusterConfig, WorkerOptions } from '../../shared/model/config';
import { errorMessage } from '../core/cluster/cluster-storage';
import { createClusterStorage } from '../core/cluster/cluster-uri';
import { DisaggClusterWorker } from '../core/cluster/disagg-cluster-worker';
import { MetadataClient } from '../core/cluster/metadata-client';
import { parseServeArgs, type SimServeArgs } from './sim-cli-args';
import { type IterationStats, SimEngine } from './sim-engine';
import { faultsFromEnv } from './sim-faults';
import { resolveHardware } from './sim-hardware';
import { KvEventBuffer } from './sim-kv-events';
import { SimServer, type SimServerSettings } from './sim-server';

const USAGE_HINT = "Try 'disagg-console sim-worker --help' for help.";
const SHUTDOWN_GRACE_MS = 3_000;
// Deregistration gets its own budget after the drain (an etcd delete on a loaded machine can take a while).
const DEREGISTER_TIMEOUT_MS = 5_000;

type Env = Record<string, string | undefined>;

export interface SimWorkerIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

const processIo: SimWorkerIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

/** A startup failure: printed as the message and exits with the code (2 = usage error, as click). */
class StartupError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** `server_role` as upstream parses it: `ServerRole[value.upper()]` (KeyError for anything else). */
function parseRole(value: string | null): 'CONTEXT' | 'GENERATION' | 'MM_ENCODER' | null {
  if (value === null) return null;
  const upper = value.toUpperCase();
  if (upper === 'CONTEXT' || upper === 'GENERATION' || upper === 'MM_ENCODER') return upper;
  throw new StartupError(
    `KeyError: '${upper}' is not a ServerRole (use CONTEXT or GENERATION for --server_role)`,
    1,
  );
}

/** The GPUs this process "has": CUDA_VISIBLE_DEVICES, else the simulated machine's count. */
export function visibleGpus(env: Env): string[] {
  const cvd = env.CUDA_VISIBLE_DEVICES;
  if (cvd === undefined) {
    const count = Number(env.DISAGG_SIM_GPU_COUNT ?? '4');
    return Array.from({ length: Number.isInteger(count) && count >= 0 ? count : 4 }, (_, i) =>
      String(i),
    );
  }
  return cvd
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '' && s !== '-1');
}

function loadOptions(args: SimServeArgs, io: SimWorkerIo): WorkerOptions {
  const file = args.extra_llm_api_options;
  if (file === null) return {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new StartupError(
      `Error: cannot read --extra_llm_api_options file '${file}': ${(err as Error).message}`,
      1,
    );
  }
  const parsed = parseWorkerOptions(
    text,
    file,
    args.disagg_cluster_uri !== null ? { disaggClusterUri: args.disagg_cluster_uri } : {},
  );
  if (!parsed.ok) {
    const lines = parsed.issues.map(formatIssue).join('\n');
    throw new StartupError(`Error: invalid --extra_llm_api_options file ${file}:\n${lines}`, 1);
  }
  for (const issue of parsed.issues) io.stderr(`[TensorRT-LLM][WARNING] ${formatIssue(issue)}\n`);
  return parsed.value;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export interface ResolvedWorker {
  args: SimServeArgs;
  options: WorkerOptions;
  role: 'CONTEXT' | 'GENERATION' | 'MM_ENCODER' | null;
  disaggCluster: DisaggClusterConfig | null;
  /** etcd of metadata_config.yaml (metadata mode, 7.1), read and validated before serving. */
  metadataServer: { hostname: string; port: number } | null;
  gpus: string[];
  settings: SimServerSettings;
  engineLimits: {
    maxBatchSize: number;
    maxNumTokens: number;
    kvCapacityTokens: number;
    tokensPerBlock: number;
  };
  iterationMs: (
    prefillTokens: readonly number[],
    generationRequests: number,
    avgContextTokens: number,
  ) => number;
  eventBufferMaxSize: number;
  isBlockReuse: boolean;
  /** `print_iter_log: true`: one executor line per iteration, as the slurm scripts parse them. */
  isPrintIterLog: boolean;
  loadMs: number;
  gpuMemUsageBytes: number;
}

/** A worker that registers itself needs its role, and only one way to register (upstream's checks). */
function checkMembershipFlags(
  args: SimServeArgs,
  role: ReturnType<typeof parseRole>,
  disaggCluster: DisaggClusterConfig | null,
): void {
  if ((disaggCluster !== null || args.metadata_server_config_file !== null) && role === null) {
    throw new StartupError(
      'AssertionError: --server_role is required when a metadata server (--metadata_server_config_file) or disagg_cluster is configured',
      1,
    );
  }
  if (disaggCluster !== null && args.metadata_server_config_file !== null) {
    throw new StartupError(
      'ValueError: disagg_cluster and a metadata server cannot be used together',
      1,
    );
  }
}

/** The GPUs CUDA_VISIBLE_DEVICES gives: exactly one per TP x PP x CP rank. */
function visibleGpusFor(
  env: Env,
  { tp, pp, cp }: { tp: number; pp: number; cp: number },
): string[] {
  const gpus = visibleGpus(env);
  if (gpus.length === 0) {
    throw new StartupError(
      'RuntimeError: No CUDA GPUs are available (CUDA_VISIBLE_DEVICES selects none)',
      1,
    );
  }
  const need = tp * pp * cp;
  if (gpus.length !== need) {
    throw new StartupError(
      `RuntimeError: tp_size (${tp}) x pp_size (${pp})${cp > 1 ? ` x cp_size (${cp})` : ''} = ${need} GPUs are needed, but ${gpus.length} are visible (CUDA_VISIBLE_DEVICES=${env.CUDA_VISIBLE_DEVICES ?? '<unset>'})`,
      1,
    );
  }
  return gpus;
}

/** A local model folder is served under its folder name; an HF id as given (protocol 1.1). */
function servedModelName(model: string): string {
  try {
    if (statSync(model).isDirectory()) return basename(model.replace(/\/+$/, ''));
  } catch {
    // Not a local path.
  }
  return model;
}

/** Resolves flags + options file + env into the worker's settings; throws StartupError on any problem. */
export function resolveWorker(args: SimServeArgs, env: Env, io: SimWorkerIo): ResolvedWorker {
  const options = loadOptions(args, io);
  // Precedence (protocol 1.1): CLI values first, the YAML merged on top.
  const tp = num(options.tensor_parallel_size) ?? args.tp_size;
  const pp = num(options.pipeline_parallel_size) ?? args.pp_size;
  const cp = num(options.context_parallel_size) ?? args.cp_size;
  const maxBatchSize = num(options.max_batch_size) ?? args.max_batch_size;
  const maxNumTokens = num(options.max_num_tokens) ?? args.max_num_tokens;
  const kv = options.kv_cache_config ?? {};
  const freeFraction = num(kv.free_gpu_memory_fraction) ?? args.kv_cache_free_gpu_memory_fraction;
  const tokensPerBlock = num(kv.tokens_per_block) ?? 32;
  let disaggCluster: DisaggClusterConfig | null = options.disagg_cluster ?? null;
  if (disaggCluster === null && args.disagg_cluster_uri !== null) {
    disaggCluster = defaultDisaggClusterConfig(args.disagg_cluster_uri);
  }
  const role = parseRole(args.server_role);
  checkMembershipFlags(args, role, disaggCluster);
  const gpus = visibleGpusFor(env, { tp, pp, cp });
  const hw = resolveHardware({
    model: args.model,
    env,
    tpSize: tp,
    ppSize: pp,
    freeGpuMemoryFraction: freeFraction,
    kvMaxTokens: num(kv.max_tokens) ?? null,
    tokensPerBlock,
  });
  if (!hw.ok) throw new StartupError(`Error: ${hw.message}`, 1);
  const maxSeqLen = num(options.max_seq_len) ?? args.max_seq_len ?? hw.value.defaultMaxSeqLen;
  const isZeroDelay = env.DISAGG_SIM_ZERO_DELAY === '1' || env.DISAGG_SIM_ZERO_DELAY === 'true';
  const ctc = options.cache_transceiver_config ?? {};
  const loadMsEnv = Number(env.DISAGG_SIM_LOAD_MS ?? '');
  const metricsWait = Number(env.DISAGG_SIM_METRICS_WAIT_MS ?? '');
  const clockSkew = Number(env.DISAGG_SIM_STEADY_CLOCK_SKEW_S ?? '0');
  const settings: SimServerSettings = {
    modelName: servedModelName(args.model),
    host: args.host,
    port: args.port,
    // `--emulate-version` picks the release: /version, params fields, routes, checks (docs/upstream-versions.md 7).
    dialect: dialectOf(args.emulate_version),
    version: dialectOf(args.emulate_version).versionString,
    internalAuthKey:
      typeof options.internal_request_auth_key === 'string' &&
      options.internal_request_auth_key !== ''
        ? options.internal_request_auth_key
        : null,
    allowRequestChatTemplate: options.allow_request_chat_template === true,
    maxSeqLen,
    maxNumTokens,
    isChunkedPrefill: options.enable_chunked_prefill ?? args.enable_chunked_prefill,
    backend: typeof options.backend === 'string' ? options.backend : args.backend,
    isOverlapScheduler: args.backend === 'pytorch' && options.disable_overlap_scheduler !== true,
    hasKvTransceiver: typeof ctc.backend === 'string',
    streamInterval: Math.max(1, num(options.stream_interval) ?? 1),
    isIterStatsEnabled: options.enable_iter_perf_stats === true,
    isPerfMetricsEnabled: options.return_perf_metrics === true,
    perfMetricsMaxRequests: num(options.perf_metrics_max_requests) ?? 0,
    steadyClockSkewSec: Number.isFinite(clockSkew) ? clockSkew : 0,
    // No timeout upstream in Oct 2025; the simulator frees unclaimed states after 60 s (the newer default).
    kvTransferTimeoutMs: num(ctc.kv_transfer_timeout_ms) ?? 60_000,
    isZeroDelay,
    isAccessLog: !isZeroDelay,
    isGenOnlyBenchmark: env.TRTLLM_DISAGG_BENCHMARK_GEN_ONLY === '1',
    metricsWaitMs:
      Number.isFinite(metricsWait) &&
      metricsWait >= 0 &&
      env.DISAGG_SIM_METRICS_WAIT_MS !== undefined
        ? metricsWait
        : 2_000,
    kvBytesForTokens: hw.value.kvBytesForTokens,
    kvTransferMs: hw.value.kvTransferMs,
    info: {
      engine: 'simulated',
      model: args.model,
      gpu_profile: hw.value.profileName,
      gpu_name: hw.value.gpuName,
      model_params_billions: hw.value.modelParamsBillions,
      gpus,
      tp_size: tp,
      pp_size: pp,
      server_role: role,
      max_batch_size: maxBatchSize,
      max_num_tokens: maxNumTokens,
      max_seq_len: maxSeqLen,
      kv_capacity_tokens: hw.value.kvCapacityTokens,
      tokens_per_block: tokensPerBlock,
      zero_delay: isZeroDelay,
      kv_link_gb_per_s: hw.value.linkGBps,
    },
  };
  return {
    args,
    options,
    role,
    disaggCluster,
    metadataServer:
      args.metadata_server_config_file !== null
        ? readMetadataConfig(args.metadata_server_config_file)
        : null,
    gpus,
    settings,
    engineLimits: {
      maxBatchSize,
      maxNumTokens,
      kvCapacityTokens: hw.value.kvCapacityTokens,
      tokensPerBlock,
    },
    iterationMs: isZeroDelay ? () => 0 : hw.value.iterationMs,
    eventBufferMaxSize: num(kv.event_buffer_max_size) ?? 0,
    isBlockReuse: kv.enable_block_reuse !== false,
    isPrintIterLog: options.print_iter_log === true,
    loadMs: isZeroDelay
      ? 0
      : Number.isFinite(loadMsEnv) && env.DISAGG_SIM_LOAD_MS !== undefined
        ? Math.max(0, loadMsEnv)
        : 300,
    gpuMemUsageBytes: hw.value.weightsBytes,
  };
}

/** The PyTorch executor's `print_iter_log` line (the slurm benchmark scripts grep its `states` dict). */
function iterLogLine(stats: IterationStats): string {
  const b = stats.inflightBatchingStats;
  return `[TensorRT-LLM][INFO] iter = ${stats.iter}, global_rank = 0, rank = 0, currank_total_requests = ${b.numContextRequests + b.numGenRequests}/${stats.numActiveRequests}, host_step_time = ${stats.iterLatencyMS.toFixed(3)}ms, prev_device_step_time = ${stats.iterLatencyMS.toFixed(3)}ms, timestamp = ${stats.timestamp}, num_scheduled_requests: ${b.numScheduledRequests}, states = {'num_ctx_requests': ${b.numContextRequests}, 'num_ctx_tokens': ${b.numCtxTokens}, 'num_generation_tokens': ${b.numGenRequests}}\n`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function withTimeout<T>(promise: Promise<T>, ms: number, fallback: T): Promise<T> {
  return Promise.race([promise, sleep(ms).then(() => fallback)]);
}

interface Registration {
  deregister(): Promise<void>;
}

function readMetadataConfig(file: string): { hostname: string; port: number } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new StartupError(
      `Error: cannot read --metadata_server_config_file '${file}': ${(err as Error).message}`,
      1,
    );
  }
  const parsed = parseMetadataConfig(text, file);
  if (!parsed.ok) {
    throw new StartupError(
      `Error: invalid --metadata_server_config_file ${file}:\n${parsed.issues.map(formatIssue).join('\n')}`,
      1,
    );
  }
  return { hostname: parsed.value.hostname, port: parsed.value.port };
}

async function register(
  resolved: ResolvedWorker,
  port: number,
  io: SimWorkerIo,
): Promise<Registration | null> {
  const { args, role } = resolved;
  const log = (level: string, message: string): void =>
    io.stderr(`[sim] cluster ${level}: ${message}\n`);
  if (resolved.metadataServer !== null && role !== null) {
    const cfg = resolved.metadataServer;
    const client = MetadataClient.forConfig(cfg, log);
    const key = await client.registerMetadataServer({
      model: resolved.settings.modelName,
      version: resolved.settings.version,
      serverRole: role,
      url: `http://${args.host}:${port}`,
    });
    io.stderr(`[sim] registered in etcd ${cfg.hostname}:${cfg.port} as ${key}\n`);
    return {
      deregister: async () => {
        await client.deregister(key);
        await client.close();
      },
    };
  }
  if (resolved.disaggCluster !== null && (role === 'CONTEXT' || role === 'GENERATION')) {
    const cluster = resolved.disaggCluster;
    const storage = createClusterStorage(cluster.cluster_uri, { log });
    const worker = new DisaggClusterWorker({
      role,
      host: args.host,
      port,
      config: cluster,
      storage,
      log,
    });
    // Registration retries in the background (every 5 s) while the store is unreachable, as upstream.
    worker.register().then(
      (ok) => {
        if (ok) {
          io.stderr(
            `[sim] registered in disagg_cluster ${cluster.cluster_uri} as ${worker.workerKey}\n`,
          );
        }
      },
      (err: unknown) =>
        io.stderr(`[sim] disagg_cluster registration failed: ${errorMessage(err)}\n`),
    );
    return {
      deregister: async () => {
        await worker.deregister();
        await storage.close();
      },
    };
  }
  return null;
}

/** Starts the worker; resolves with an exit code on startup failure, or undefined once it serves. */
export async function runSimWorker(
  argv: readonly string[],
  env: Env = process.env,
  io: SimWorkerIo = processIo,
): Promise<number | undefined> {
  const parsed = parseServeArgs(argv);
  if (parsed.kind === 'help') {
    io.stdout(parsed.text + '\n');
    return 0;
  }
  if (parsed.kind === 'error') {
    io.stderr(`${parsed.usage}\n${USAGE_HINT}\n\nError: ${parsed.message}\n`);
    return 2;
  }
  try {
    return await start(parsed.args, env, io);
  } catch (err) {
    if (err instanceof StartupError) {
      io.stderr(`${err.message}\n`);
      return err.exitCode;
    }
    io.stderr(`[sim] startup failed: ${(err as Error).stack ?? String(err)}\n`);
    return 1;
  }
}

/** Output to a dead console's pipe must not end the worker; anything unexpected ends it with a message. */
function guardProcess(io: SimWorkerIo): void {
  // The console that started this worker may die (kill -9) and a new one adopt the worker: output to the dead
  // console's pipe must not end it, as it does not end trtllm-serve (Python ignores SIGPIPE, logging swallows EPIPE).
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
    });
  }
  process.on('uncaughtException', (err) => {
    io.stderr(`[sim] unexpected error: ${err.stack ?? err.message}\n`);
    process.exit(1);
  });
  process.on('unhandledRejection', (reason) => {
    io.stderr(`[sim] unexpected error: ${errorMessage(reason)}\n`);
    process.exit(1);
  });
}

/** trtllm-serve's start-up lines, with the simulated weight loading paced over `loadMs`. */
async function announceLoading(
  resolved: ResolvedWorker,
  args: SimServeArgs,
  io: SimWorkerIo,
): Promise<void> {
  const { settings } = resolved;
  const info = settings.info;
  io.stderr(
    `[TensorRT-LLM] TensorRT-LLM version: ${settings.version} (SIMULATED worker: no GPU is used)\n`,
  );
  io.stderr(
    `[TensorRT-LLM][INFO] simulated ${String(info.gpu_profile)} x${resolved.gpus.length} (CUDA_VISIBLE_DEVICES=${resolved.gpus.join(',')}), tp_size=${String(info.tp_size)} pp_size=${String(info.pp_size)}, model ${args.model}\n`,
  );
  const steps = 4;
  for (let i = 0; i <= steps; i += 1) {
    io.stderr(`[TensorRT-LLM][INFO] Loading weights: ${Math.round((100 * i) / steps)}%\n`);
    if (i < steps && resolved.loadMs > 0) await sleep(resolved.loadMs / steps);
  }
  io.stderr(
    `[TensorRT-LLM][INFO] KV cache: ${String(info.kv_capacity_tokens)} tokens (${Math.floor(resolved.engineLimits.kvCapacityTokens / resolved.engineLimits.tokensPerBlock)} blocks of ${resolved.engineLimits.tokensPerBlock}), max_batch_size=${resolved.engineLimits.maxBatchSize}, max_num_tokens=${resolved.engineLimits.maxNumTokens}\n`,
  );
}

async function start(args: SimServeArgs, env: Env, io: SimWorkerIo): Promise<undefined> {
  // A signal while the model is still "loading" ends the process cleanly too; the full handler replaces this.
  const earlyStop = (signal: string): void => {
    io.stderr(`INFO:     Shutting down during startup (${signal})\n`);
    process.exit(0);
  };
  const onEarlyTerm = (): void => earlyStop('SIGTERM');
  const onEarlyInt = (): void => earlyStop('SIGINT');
  process.on('SIGTERM', onEarlyTerm);
  process.on('SIGINT', onEarlyInt);
  guardProcess(io);
  const resolved = resolveWorker(args, env, io);
  const faults = faultsFromEnv(env.DISAGG_SIM_FAULTS);
  if (!faults.ok) throw new StartupError(`Error: ${faults.message}`, 1);
  const { settings } = resolved;
  await announceLoading(resolved, args, io);

  const kvEvents = new KvEventBuffer({
    maxEvents: resolved.eventBufferMaxSize,
    maxBlocks: Math.floor(
      resolved.engineLimits.kvCapacityTokens / resolved.engineLimits.tokensPerBlock,
    ),
    tokensPerBlock: resolved.engineLimits.tokensPerBlock,
    windowSize: settings.maxSeqLen,
    isReuseEnabled: resolved.isBlockReuse,
  });
  let server: SimServer | null = null;
  const engine = new SimEngine({
    limits: resolved.engineLimits,
    timing: { iterationMs: resolved.iterationMs },
    onIteration:
      settings.isIterStatsEnabled || resolved.isPrintIterLog
        ? (stats) => {
            if (settings.isIterStatsEnabled) server?.recordIteration(stats);
            if (resolved.isPrintIterLog) io.stderr(iterLogLine(stats));
          }
        : undefined,
    gpuMemUsageBytes: resolved.gpuMemUsageBytes,
  });
  const onCrash = (code: number): void => {
    if (code === 137) process.kill(process.pid, 'SIGKILL');
    else process.exit(code);
  };
  server = new SimServer({
    settings,
    engine,
    kvEvents,
    faults: faults.faults,
    log: (line) => io.stderr(`${line}\n`),
    onCrash,
  });
  let port: number;
  try {
    port = await server.listen();
  } catch (err) {
    throw new StartupError(
      `ERROR: [Errno 98] error while attempting to bind on address (${args.host}, ${args.port}): ${(err as Error).message}`,
      1,
    );
  }
  io.stderr('INFO:     Started server process [' + String(process.pid) + ']\n');
  io.stderr('INFO:     Waiting for application startup.\n');
  io.stderr('INFO:     Application startup complete.\n');
  io.stderr(`INFO:     Uvicorn running on http://${args.host}:${port} (Press CTRL+C to quit)\n`);

  let registration: Registration | null = null;
  try {
    registration = await register(resolved, port, io);
  } catch (err) {
    await server.shutdown(0);
    if (err instanceof StartupError) throw err;
    throw new StartupError(`Error: registration failed: ${errorMessage(err)}`, 1);
  }

  let isStopping = false;
  const stop = (signal: string): void => {
    if (isStopping) return;
    isStopping = true;
    io.stderr(`INFO:     Shutting down (${signal})\n`);
    const done = async (): Promise<void> => {
      await server?.shutdown(SHUTDOWN_GRACE_MS);
      if (registration) {
        await withTimeout(
          registration
            .deregister()
            .catch((err: unknown) =>
              io.stderr(`[sim] deregistration failed: ${errorMessage(err)}\n`),
            ),
          DEREGISTER_TIMEOUT_MS,
          undefined,
        );
      }
      io.stderr('INFO:     Finished server process [' + String(process.pid) + ']\n');
      process.exit(0);
    };
    done().catch((err: unknown) => {
      io.stderr(`[sim] shutdown error: ${errorMessage(err)}\n`);
      process.exit(1);
    });
  };
  process.off('SIGTERM', onEarlyTerm);
  process.off('SIGINT', onEarlyInt);
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return undefined;
}
