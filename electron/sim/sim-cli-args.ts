// The simulated worker's command line: the flag table of `trtllm-serve serve` (trtllm-protocol.md 1.1)
// with upstream's names, types and defaults, parsed the way click does (`--flag value`, `--flag=value`,
// `serve` as optional default sub-command, unknown flags rejected with click's messages), read by the
// console's one argument parser (electron/core/cli-args.ts). Layer: electron/sim (plain Node; no I/O).
import { TRTLLM_VERSIONS, type TrtllmVersion } from '../../shared/logic/trtllm-dialect';
import { type CommandSpec, type FlagIssue, parseFlags } from '../core/cli-args';

/** Parsed `trtllm-serve serve` arguments, upstream names (snake_case). */
export interface SimServeArgs {
  model: string;
  tokenizer: string | null;
  host: string;
  port: number;
  backend: 'pytorch' | 'tensorrt' | '_autodeploy';
  log_level: string;
  max_beam_width: number;
  max_batch_size: number;
  max_num_tokens: number;
  max_seq_len: number | null;
  tp_size: number;
  pp_size: number;
  ep_size: number | null;
  cluster_size: number | null;
  gpus_per_node: number | null;
  kv_cache_free_gpu_memory_fraction: number;
  num_postprocess_workers: number;
  trust_remote_code: boolean;
  extra_llm_api_options: string | null;
  reasoning_parser: string | null;
  metadata_server_config_file: string | null;
  server_role: string | null;
  fail_fast_on_attention_window_too_large: boolean;
  disagg_cluster_uri: string | null;
  enable_chunked_prefill: boolean;
  media_io_kwargs: string | null;
  // Newer-only flags (protocol 1.1 last row): accepted so newer launch scripts work, otherwise unused.
  tool_parser: string | null;
  otlp_traces_endpoint: string | null;
  chat_template: string | null;
  custom_tokenizer: string | null;
  revision: string | null;
  custom_module_dirs: string | null;
  cp_size: number;
  grpc: boolean;
  /** Simulation only: the TensorRT-LLM release whose dialect to speak (docs/upstream-versions.md section 7). */
  emulate_version: TrtllmVersion;
}

type FlagKind = 'str' | 'int' | 'float' | 'flag' | { choice: readonly string[] };

interface FlagSpec {
  /** The key in SimServeArgs. */
  key: keyof SimServeArgs;
  /** Every accepted spelling; the first is upstream's primary name. */
  names: readonly string[];
  kind: FlagKind;
  help: string;
}

/** TRT-LLM `severity_map` keys accepted by `--log_level`. */
const LOG_LEVELS = [
  'internal_error',
  'error',
  'warning',
  'info',
  'verbose',
  'debug',
  'trace',
] as const;

/** The flag table of protocol 1.1, in upstream's order. Aliases are the newer spellings listed there. */
export const SERVE_FLAGS: readonly FlagSpec[] = [
  { key: 'tokenizer', names: ['--tokenizer'], kind: 'str', help: 'Path | Name of the tokenizer.' },
  {
    key: 'host',
    names: ['--host'],
    kind: 'str',
    help: 'Hostname of the server. [default: localhost]',
  },
  { key: 'port', names: ['--port'], kind: 'int', help: 'Port of the server. [default: 8000]' },
  {
    key: 'backend',
    names: ['--backend'],
    kind: { choice: ['pytorch', 'tensorrt', '_autodeploy', 'trt'] },
    help: 'The backend to use. [default: pytorch]',
  },
  {
    key: 'log_level',
    names: ['--log_level'],
    kind: { choice: LOG_LEVELS },
    help: 'The logging level. [default: info]',
  },
  {
    key: 'max_beam_width',
    names: ['--max_beam_width'],
    kind: 'int',
    help: 'Maximum number of beams for beam search decoding. [default: 1]',
  },
  {
    key: 'max_batch_size',
    names: ['--max_batch_size'],
    kind: 'int',
    help: 'Maximum number of requests that the engine can schedule. [default: 2048]',
  },
  {
    key: 'max_num_tokens',
    names: ['--max_num_tokens'],
    kind: 'int',
    help: 'Maximum number of batched input tokens after padding is removed in each batch. [default: 8192]',
  },
  {
    key: 'max_seq_len',
    names: ['--max_seq_len'],
    kind: 'int',
    help: 'Maximum total length of one request, including prompt and outputs.',
  },
  {
    key: 'tp_size',
    names: ['--tp_size', '--tensor_parallel_size'],
    kind: 'int',
    help: 'Tensor parallelism size. [default: 1]',
  },
  {
    key: 'pp_size',
    names: ['--pp_size', '--pipeline_parallel_size'],
    kind: 'int',
    help: 'Pipeline parallelism size. [default: 1]',
  },
  {
    key: 'ep_size',
    names: ['--ep_size', '--moe_expert_parallel_size'],
    kind: 'int',
    help: 'Expert parallelism size.',
  },
  {
    key: 'cluster_size',
    names: ['--cluster_size'],
    kind: 'int',
    help: 'Expert cluster parallelism size.',
  },
  {
    key: 'gpus_per_node',
    names: ['--gpus_per_node'],
    kind: 'int',
    help: 'Number of GPUs per node. Default to None, and it will be detected automatically.',
  },
  {
    key: 'kv_cache_free_gpu_memory_fraction',
    names: ['--kv_cache_free_gpu_memory_fraction', '--free_gpu_memory_fraction'],
    kind: 'float',
    help: 'Free GPU memory fraction reserved for KV Cache, after allocating model weights and buffers. [default: 0.9]',
  },
  {
    key: 'num_postprocess_workers',
    names: ['--num_postprocess_workers'],
    kind: 'int',
    help: '[Experimental] Number of workers to postprocess raw responses to comply with OpenAI protocol. [default: 0]',
  },
  {
    key: 'trust_remote_code',
    names: ['--trust_remote_code'],
    kind: 'flag',
    help: 'Flag for HF transformers.',
  },
  {
    key: 'extra_llm_api_options',
    names: ['--extra_llm_api_options', '--config'],
    kind: 'str',
    help: 'Path to a YAML file that overwrites the parameters specified by trtllm-serve.',
  },
  {
    key: 'reasoning_parser',
    names: ['--reasoning_parser'],
    kind: 'str',
    help: '[Experimental] Specify the parser for reasoning models.',
  },
  {
    key: 'metadata_server_config_file',
    names: ['--metadata_server_config_file'],
    kind: 'str',
    help: 'Path to metadata server config file',
  },
  {
    key: 'server_role',
    names: ['--server_role'],
    kind: 'str',
    help: 'Server role. Specify this value only if running in disaggregated mode.',
  },
  {
    key: 'fail_fast_on_attention_window_too_large',
    names: ['--fail_fast_on_attention_window_too_large'],
    kind: 'flag',
    help: 'Exit with runtime error when attention window is too large to fit even a single sequence in the KV cache.',
  },
  {
    key: 'disagg_cluster_uri',
    names: ['--disagg_cluster_uri'],
    kind: 'str',
    help: 'URI of the disaggregated cluster.',
  },
  {
    key: 'enable_chunked_prefill',
    names: ['--enable_chunked_prefill'],
    kind: 'flag',
    help: 'Enable chunked prefill',
  },
  {
    key: 'media_io_kwargs',
    names: ['--media_io_kwargs'],
    kind: 'str',
    help: 'Keyword arguments for media I/O (JSON string).',
  },
  { key: 'tool_parser', names: ['--tool_parser'], kind: 'str', help: '[Newer] Tool call parser.' },
  {
    key: 'otlp_traces_endpoint',
    names: ['--otlp_traces_endpoint'],
    kind: 'str',
    help: '[Newer] OTLP traces endpoint.',
  },
  {
    key: 'chat_template',
    names: ['--chat_template'],
    kind: 'str',
    help: '[Newer] Chat template file or string.',
  },
  {
    key: 'custom_tokenizer',
    names: ['--custom_tokenizer'],
    kind: 'str',
    help: '[Newer] Custom tokenizer.',
  },
  { key: 'revision', names: ['--revision'], kind: 'str', help: '[Newer] Model revision.' },
  {
    key: 'custom_module_dirs',
    names: ['--custom_module_dirs'],
    kind: 'str',
    help: '[Newer] Custom module directories.',
  },
  {
    key: 'cp_size',
    names: ['--cp_size', '--context_parallel_size'],
    kind: 'int',
    help: '[Newer] Context parallelism size. [default: 1]',
  },
  {
    key: 'grpc',
    names: ['--grpc'],
    kind: 'flag',
    help: '[Newer] Serve gRPC instead of HTTP (not simulated).',
  },
  {
    key: 'emulate_version',
    names: ['--emulate-version'],
    kind: { choice: TRTLLM_VERSIONS },
    help: '[Simulation] The TensorRT-LLM release to emulate: its /version, disaggregated_params fields, routes, request checks, signing and per-request metrics. [default: 1.1]',
  },
];

/** Defaults of protocol 1.1 (BuildConfig defaults for batch size / tokens / beam width). */
export function defaultServeArgs(model: string): SimServeArgs {
  return {
    model,
    tokenizer: null,
    host: 'localhost',
    port: 8000,
    backend: 'pytorch',
    log_level: 'info',
    max_beam_width: 1,
    max_batch_size: 2048,
    max_num_tokens: 8192,
    max_seq_len: null,
    tp_size: 1,
    pp_size: 1,
    ep_size: null,
    cluster_size: null,
    gpus_per_node: null,
    kv_cache_free_gpu_memory_fraction: 0.9,
    num_postprocess_workers: 0,
    trust_remote_code: false,
    extra_llm_api_options: null,
    reasoning_parser: null,
    metadata_server_config_file: null,
    server_role: null,
    fail_fast_on_attention_window_too_large: false,
    disagg_cluster_uri: null,
    enable_chunked_prefill: false,
    media_io_kwargs: null,
    tool_parser: null,
    otlp_traces_endpoint: null,
    chat_template: null,
    custom_tokenizer: null,
    revision: null,
    custom_module_dirs: null,
    cp_size: 1,
    grpc: false,
    emulate_version: '1.1',
  };
}

export type ParseArgsResult =
  | { kind: 'ok'; args: SimServeArgs }
  | { kind: 'help'; text: string }
  /** A usage error: click prints the usage and `Error: ...` and exits with 2. */
  | { kind: 'error'; message: string; usage: string };

const USAGE = 'Usage: disagg-console sim-worker [serve] [OPTIONS] MODEL';

/** The `--help` text: every flag with its aliases, like click's option listing. */
export function serveHelpText(): string {
  const lines = [
    USAGE,
    '',
    '  Running an OpenAI API compatible server (SIMULATED: same flags and HTTP API as trtllm-serve, no GPU).',
    '',
    '  MODEL: model name | HF checkpoint path | TensorRT engine path',
    '',
    'Options:',
  ];
  for (const flag of SERVE_FLAGS) {
    const meta =
      flag.kind === 'flag'
        ? ''
        : typeof flag.kind === 'object'
          ? ` [${flag.kind.choice.join('|')}]`
          : ` ${flag.kind.toUpperCase()}`;
    lines.push(`  ${flag.names.join(', ')}${meta}`);
    lines.push(`      ${flag.help}`);
  }
  lines.push('  --help  Show this message and exit.');
  lines.push('');
  lines.push(
    'Simulation settings come from the environment (so the command line stays upstream-compatible):',
  );
  lines.push(
    '  DISAGG_SIM_GPU (h100|h200|a100|l40s|rtx4090|custom), DISAGG_SIM_GPU_PROFILE (JSON, custom numbers),',
  );
  lines.push(
    '  DISAGG_SIM_GPU_COUNT (GPUs when CUDA_VISIBLE_DEVICES is unset, default 4), DISAGG_SIM_ZERO_DELAY=1,',
  );
  lines.push(
    '  DISAGG_SIM_LOAD_MS (simulated load time), DISAGG_SIM_KV_LINK_GB_S (KV transfer link, GB/s, default 25),',
  );
  lines.push('  DISAGG_SIM_FAULTS (JSON fault switches, also at runtime on /_sim/faults),');
  lines.push(
    '  DISAGG_SIM_EMULATE_VERSION (the release to emulate; set, it wins over --emulate-version),',
  );
  lines.push(
    '  DISAGG_SIM_STEADY_CLOCK_SKEW_S (seconds added to the steady clock, for /steady_clock_offset tests).',
  );
  return lines.join('\n');
}

/** The flag table as the shared parser reads it; values stay text until convert() applies click's types. */
const SERVE_COMMAND: CommandSpec<keyof SimServeArgs> = {
  usage: USAGE,
  groups: [
    {
      title: 'Options',
      flags: SERVE_FLAGS.map((f) => ({
        key: f.key,
        names: f.names,
        takes: f.kind === 'flag' ? 'switch' : 'value',
        help: f.help,
      })),
    },
  ],
  allowPositionals: true,
};

/** click's wording of a command-line mistake. */
function clickMessage(issue: FlagIssue): string {
  switch (issue.kind) {
    case 'unknown': {
      // click lists the spellings that differ only by - and _ ("Possible options"), else its nearest match.
      const name = issue.flag;
      const close = SERVE_FLAGS.flatMap((f) => f.names).filter(
        (n) => n.replace(/-/g, '_') === name.replace(/-/g, '_'),
      );
      if (close.length > 0) {
        return `No such option: ${name} (Possible options: ${close.join(', ')})`;
      }
      return `No such option: ${name}${issue.nearest !== undefined && issue.nearest !== '-h' ? ` Did you mean ${issue.nearest}?` : ''}`;
    }
    case 'missing-value':
      return `Option '${issue.flag}' requires an argument.`;
    case 'unexpected-value':
      return `Option '${issue.flag}' does not take a value.`;
    case 'unexpected-argument':
      return `Got unexpected extra argument (${issue.value})`;
  }
}

function convert(
  flag: FlagSpec,
  name: string,
  raw: string,
): { ok: true; value: string | number } | { ok: false; message: string } {
  const kind = flag.kind;
  if (kind === 'int') {
    // click's INT accepts an optional sign and digits (Python int()), surrounding spaces included.
    const text = raw.trim();
    if (!/^[+-]?\d+$/.test(text)) {
      return {
        ok: false,
        message: `Invalid value for '${name}': '${raw}' is not a valid integer.`,
      };
    }
    return { ok: true, value: Number.parseInt(text, 10) };
  }
  if (kind === 'float') {
    const text = raw.trim();
    const value = Number(text);
    if (text === '' || Number.isNaN(value)) {
      return { ok: false, message: `Invalid value for '${name}': '${raw}' is not a valid float.` };
    }
    return { ok: true, value };
  }
  if (typeof kind === 'object') {
    if (!kind.choice.includes(raw)) {
      const list = kind.choice.map((c) => `'${c}'`).join(', ');
      return { ok: false, message: `Invalid value for '${name}': '${raw}' is not one of ${list}.` };
    }
    return { ok: true, value: raw };
  }
  return { ok: true, value: raw };
}

/**
 * Parses `[serve] MODEL [flags]` like click: `serve` is the default sub-command, options may come before
 * or after MODEL, `--` ends options. Unknown options and a missing MODEL are usage errors (exit 2).
 */
export function parseServeArgs(argv: readonly string[]): ParseArgsResult {
  const rest = argv[0] === 'serve' ? argv.slice(1) : [...argv];
  const parsed = parseFlags(SERVE_COMMAND, rest);
  if (!parsed.ok) return { kind: 'error', message: clickMessage(parsed.issue), usage: USAGE };
  if (parsed.isHelp) return { kind: 'help', text: serveHelpText() };
  const values: Partial<Record<keyof SimServeArgs, string | number | boolean>> = {};
  for (const [key, raw] of Object.entries(parsed.values) as [keyof SimServeArgs, string | true][]) {
    const flag = SERVE_FLAGS.find((f) => f.key === key) as FlagSpec;
    if (raw === true) {
      values[key] = true;
      continue;
    }
    const converted = convert(flag, flag.names[0] as string, raw);
    if (!converted.ok) return { kind: 'error', message: converted.message, usage: USAGE };
    values[key] = converted.value;
  }
  const positionals = parsed.positionals;
  if (positionals.length === 0) {
    return { kind: 'error', message: "Missing argument 'MODEL'.", usage: USAGE };
  }
  if (positionals.length > 1) {
    return {
      kind: 'error',
      message: `Got unexpected extra argument (${positionals.slice(1).join(' ')})`,
      usage: USAGE,
    };
  }
  const args: SimServeArgs = {
    ...defaultServeArgs(positionals[0] ?? ''),
    ...values,
  } as SimServeArgs;
  // `trt` is an alias of `tensorrt` (protocol 1.1).
  if ((args.backend as string) === 'trt') args.backend = 'tensorrt';
  return { kind: 'ok', args };
}
