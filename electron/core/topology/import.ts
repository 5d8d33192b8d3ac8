// Import (feature K4): turns files a user already has into a console topology draft: a set of upstream
// files (disagg_config.yaml, metadata_config.yaml, worker options files, recognised by content, not by
// name) or the deprecated single-file `disaggregated_mpi_worker` config (LLM args inside the
// context_servers / generation_servers sections, protocol 1.3), and writes the console.yaml that ties them
// together. The draft is returned, not applied. Layer: core.

import type { Document } from 'yaml';

import { isPlainObject } from '../../../shared/logic/config-checks';
import type { ConfigIssue } from '../../../shared/logic/config-issues';
import {
  extractMpiWorkerOptions,
  parseDisaggConfig,
  parseWorkerOptions,
  splitHostPort,
} from '../../../shared/logic/config-parse';
import { serializeDisaggConfig, serializeWorkerOptions } from '../../../shared/logic/config-write';
import { CONSOLE_FILE, serializeConsoleFile } from '../../../shared/logic/console-file';
import {
  DISAGG_CONFIG_FILE,
  loadTopology,
  METADATA_CONFIG_FILE,
} from '../../../shared/logic/load-topology';
import { readYamlValue } from '../../../shared/logic/yaml-guard';
import type {
  DisaggConfig,
  ServerSectionConfig,
  WorkerOptions,
} from '../../../shared/model/config';
import type {
  ClusterMode,
  ImportResult,
  TopologyFiles,
  TopologyWorker,
} from '../../../shared/model/topology';
import type { WorkerRole } from '../../../shared/model/worker';

/** The model a worker gets when the files do not say (the README's example model). */
export const PLACEHOLDER_MODEL = 'TinyLlama/TinyLlama-1.1B-Chat-v1.0';

// The README's minimal working pair (protocol 2.4), used when no worker options file was given.
const TEMPLATE_OPTIONS: Record<WorkerRole, WorkerOptions> = {
  context: {
    disable_overlap_scheduler: true,
    cache_transceiver_config: { backend: 'UCX', max_tokens_in_buffer: 2048 },
  },
  generation: { cache_transceiver_config: { backend: 'UCX', max_tokens_in_buffer: 2048 } },
};

type FileKind = 'console' | 'disagg' | 'metadata' | 'options';

/**
 * What a file is, by its keys (users name their files freely). A file that does not read (syntax, the YAML
 * guard's limits) counts as options, whose parser reports it with its position; its issues are kept for when
 * no file turns out to be the proxy config, so the answer says why.
 */
function classify(name: string, text: string): { kind: FileKind; unreadable: ConfigIssue[] } {
  if (name === CONSOLE_FILE) return { kind: 'console', unreadable: [] };
  const read = readYamlValue(text, name, { version: '1.1' });
  if (!read.ok) {
    return { kind: 'options', unreadable: read.issues.filter((i) => i.severity === 'error') };
  }
  return { kind: kindOf(read.value), unreadable: [] };
}

function kindOf(value: unknown): FileKind {
  if (!isPlainObject(value)) return 'options';
  if (
    'context_servers' in value ||
    'generation_servers' in value ||
    ('disagg_cluster' in value && 'hostname' in value)
  ) {
    return 'disagg';
  }
  if (
    'server_type' in value ||
    'refresh_interval' in value ||
    'refersh_interval' in value ||
    'health_check_timeout' in value
  ) {
    return 'metadata';
  }
  return 'options';
}

/** Role from a file name: ctx/context/prefill or gen/generation/decode. */
function roleFromName(name: string): WorkerRole | null {
  const n = name.toLowerCase();
  if (/(^|[^a-z])(ctx|context|prefill)/.test(n)) return 'context';
  if (/(^|[^a-z])(gen|generation|decode)/.test(n)) return 'generation';
  return null;
}

function safeFileName(name: string): string {
  const base = name
    .replace(/^.*[\\/]/, '')
    .replace(/[^A-Za-z0-9_.-]/g, '_')
    .replace(/^[.]+/, '_');
  return /\.ya?ml$/i.test(base) ? base : `${base}.yaml`;
}

function note(
  file: string,
  message: string,
  severity: 'error' | 'warning' = 'warning',
): ConfigIssue {
  return { file, line: 1, column: 1, path: '', message, severity };
}

function modelOf(disagg: DisaggConfig | null, issues: ConfigIssue[], file: string): string {
  const m = disagg?.shared_keys.model;
  if (typeof m === 'string' && m !== '') return m;
  issues.push(
    note(
      file,
      `no model named in the files; the workers use ${PLACEHOLDER_MODEL} until you set model in console.yaml`,
    ),
  );
  return PLACEHOLDER_MODEL;
}

class GpuCounter {
  private next = 0;
  take(count: number): number[] {
    const gpus = Array.from({ length: count }, (_v, i) => this.next + i);
    this.next += count;
    return gpus;
  }
}

/** Workers from a section's urls (static mode) or one per options file (dynamic modes). */
function workersFor(
  role: WorkerRole,
  section: ServerSectionConfig | null,
  optionFiles: { name: string; options: WorkerOptions }[],
  ctx: {
    model: string;
    gpus: GpuCounter;
    nextPort: () => number;
    issues: ConfigIssue[];
    tpPp?: (s: ServerSectionConfig) => [number, number];
  },
): TopologyWorker[] {
  const prefix = role === 'context' ? 'ctx' : 'gen';
  const endpoints =
    section && section.urls.length > 0
      ? section.urls.map((u) => splitHostPort(u))
      : optionFiles.map(() => ({ host: 'localhost', port: ctx.nextPort() }));
  return endpoints.map(({ host, port }, i): TopologyWorker => {
    // With several options files per role they are matched to urls in order; with one, every worker shares it.
    const file =
      optionFiles.length === 0 ? null : (optionFiles[Math.min(i, optionFiles.length - 1)] ?? null);
    const [sectionTp, sectionPp] = section && ctx.tpPp ? ctx.tpPp(section) : [1, 1];
    const tp = file?.options.tensor_parallel_size ?? sectionTp;
    const pp = file?.options.pipeline_parallel_size ?? sectionPp;
    return {
      name: `${prefix}${i}`,
      role,
      gpus: ctx.gpus.take(tp * pp),
      host,
      port,
      model: ctx.model,
      engine: 'trtllm-serve',
      backend: 'pytorch',
      tpSize: null,
      ppSize: null,
      optionsFile: file?.name ?? null,
      env: {},
    };
  });
}

function endpointPortAllocator(used: number[]): () => number {
  let p = 8001;
  return () => {
    while (used.includes(p)) p++;
    used.push(p);
    return p;
  };
}

/** The deprecated single-file format: one disagg_config.yaml with LLM args inside the sections. */
function importMpiWorker(
  name: string,
  document: Document,
  disagg: DisaggConfig,
  issues: ConfigIssue[],
): ImportResult {
  const extracted = extractMpiWorkerOptions(disagg, { file: name, document });
  issues.push(...extracted.issues);
  const strip = (o: WorkerOptions): WorkerOptions => {
    // model/backend are trtllm-serve's positional and --backend in the split form, not options-file keys.
    const {
      model: _m,
      backend: _b,
      tensor_parallel_size: _tp,
      pipeline_parallel_size: _pp,
      ...rest
    } = o;
    return rest;
  };
  const files: TopologyFiles = {};
  files['ctx.yaml'] = serializeWorkerOptions(strip(extracted.context));
  files['gen.yaml'] = serializeWorkerOptions(strip(extracted.generation));
  const model = modelOf(disagg, issues, name);
  const proxyOnly: DisaggConfig = {
    ...disagg,
    shared_keys: {
      ...(typeof disagg.shared_keys.model === 'string' ? { model: disagg.shared_keys.model } : {}),
      backend: 'pytorch',
    },
    context_servers: {
      ...disagg.context_servers,
      other: {},
      tensor_parallel_size: 1,
      pipeline_parallel_size: 1,
    },
    generation_servers: {
      ...disagg.generation_servers,
      other: {},
      tensor_parallel_size: 1,
      pipeline_parallel_size: 1,
    },
  };
  files[DISAGG_CONFIG_FILE] = serializeDisaggConfig(proxyOnly);
  const gpus = new GpuCounter();
  const used = [...disagg.context_servers.urls, ...disagg.generation_servers.urls].map(
    (u) => splitHostPort(u).port,
  );
  const ctx = {
    model,
    gpus,
    nextPort: endpointPortAllocator(used),
    issues,
    tpPp: (s: ServerSectionConfig): [number, number] => [
      s.tensor_parallel_size,
      s.pipeline_parallel_size,
    ],
  };
  // TP/PP come from the sections (the per-role option files above no longer carry them).
  const workers = [
    ...workersFor('context', disagg.context_servers, [{ name: 'ctx.yaml', options: {} }], ctx),
    ...workersFor(
      'generation',
      disagg.generation_servers,
      [{ name: 'gen.yaml', options: {} }],
      ctx,
    ),
  ];
  for (const w of workers) {
    const section = w.role === 'context' ? disagg.context_servers : disagg.generation_servers;
    if (section.tensor_parallel_size !== 1) w.tpSize = section.tensor_parallel_size;
    if (section.pipeline_parallel_size !== 1) w.ppSize = section.pipeline_parallel_size;
  }
  // mpirun gave the instances consecutive ranks, hence consecutive GPUs, context first (protocol 1.3).
  files[CONSOLE_FILE] = serializeConsoleFile({
    clusterMode: 'static',
    expectedMaxInputTokens: null,
    workers,
  });
  issues.push(
    note(
      name,
      'converted from the deprecated disaggregated_mpi_worker format: one trtllm-serve per instance, options in ctx.yaml and gen.yaml',
    ),
  );
  return { files, format: 'mpi-worker', issues };
}

function hasLlmArgs(s: ServerSectionConfig): boolean {
  return (
    Object.keys(s.other).some((k) => k !== 'model' && k !== 'backend') ||
    s.tensor_parallel_size !== 1 ||
    s.pipeline_parallel_size !== 1
  );
}

/**
 * Each worker options file to its role (by its name, or a context worker's disable_overlap_scheduler), added
 * to `files`; a role with none gets the README's minimal file.
 */
function assignOptionsFiles(
  optionFiles: readonly { name: string; text: string }[],
  files: TopologyFiles,
  issues: ConfigIssue[],
): Record<WorkerRole, { name: string; options: WorkerOptions }[]> {
  const byRole: Record<WorkerRole, { name: string; options: WorkerOptions }[]> = {
    context: [],
    generation: [],
  };
  for (const k of [...optionFiles].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const name = safeFileName(k.name);
    const r = parseWorkerOptions(k.text, name);
    issues.push(...r.issues);
    files[name] = k.text;
    const role =
      roleFromName(k.name) ??
      (r.ok && r.value.disable_overlap_scheduler === true ? 'context' : null);
    if (role === null) {
      issues.push(
        note(
          name,
          'cannot tell whether this options file is for context or generation workers (name it ctx*.yaml or gen*.yaml); it is kept but not assigned',
        ),
      );
      continue;
    }
    byRole[role].push({ name, options: r.ok ? r.value : {} });
  }
  for (const role of ['context', 'generation'] as const) {
    if (byRole[role].length > 0) continue;
    const name = role === 'context' ? 'ctx.yaml' : 'gen.yaml';
    files[name] = serializeWorkerOptions(TEMPLATE_OPTIONS[role]);
    byRole[role].push({ name, options: TEMPLATE_OPTIONS[role] });
    issues.push(
      note(
        name,
        `no ${role} options file was given; created the README's minimal one (UCX, max_tokens_in_buffer 2048)`,
      ),
    );
  }
  return byRole;
}

/** Converts a set of files into a draft topology; problems found on the way are issues, never exceptions. */
export function importTopologyFiles(input: TopologyFiles): ImportResult {
  const issues: ConfigIssue[] = [];
  const names = Object.keys(input);
  if (names.length === 0) {
    return {
      files: {},
      format: 'files',
      issues: [note(DISAGG_CONFIG_FILE, 'no files to import', 'error')],
    };
  }
  // A folder exported by the console already has its console.yaml: take it as it is, with every problem its
  // files have (a file that does not parse is an error, so the importer keeps the draft it had).
  if (input[CONSOLE_FILE] !== undefined) {
    return { files: { ...input }, format: 'files', issues: loadTopology(input).issues };
  }

  const kinds = names.map((name) => ({
    name,
    text: input[name] ?? '',
    ...classify(name, input[name] ?? ''),
  }));
  const disaggFiles = kinds.filter((k) => k.kind === 'disagg');
  const metadataFiles = kinds.filter((k) => k.kind === 'metadata');
  if (disaggFiles.length !== 1) {
    // A file that does not read cannot be recognised: its errors, at their line and column, come first.
    const syntax = kinds.flatMap((k) => k.unreadable);
    return {
      files: {},
      format: 'files',
      issues: [
        ...syntax,
        note(
          disaggFiles[1]?.name ?? names[0] ?? DISAGG_CONFIG_FILE,
          disaggFiles.length === 0
            ? 'none of the files is a disagg_config.yaml (it has context_servers / generation_servers)'
            : `more than one proxy config: ${disaggFiles.map((d) => d.name).join(', ')}`,
          'error',
        ),
      ],
    };
  }
  if (metadataFiles.length > 1) {
    issues.push(
      note(
        metadataFiles[1]!.name,
        `more than one metadata config; using ${metadataFiles[0]!.name}`,
      ),
    );
  }
  const disaggFile = disaggFiles[0]!;
  const metadataFile = metadataFiles[0] ?? null;
  const parsed = parseDisaggConfig(disaggFile.text, disaggFile.name, {
    hasMetadataServer: metadataFile !== null,
  });
  if (!parsed.ok) return { files: {}, format: 'files', issues: parsed.issues };
  issues.push(...parsed.issues);
  const disagg = parsed.value;

  if (
    names.length === 1 &&
    (hasLlmArgs(disagg.context_servers) || hasLlmArgs(disagg.generation_servers))
  ) {
    return importMpiWorker(disaggFile.name, parsed.document, disagg, issues);
  }

  const files: TopologyFiles = { [DISAGG_CONFIG_FILE]: disaggFile.text };
  if (metadataFile) files[METADATA_CONFIG_FILE] = metadataFile.text;
  const byRole = assignOptionsFiles(
    kinds.filter((x) => x.kind === 'options'),
    files,
    issues,
  );

  const mode: ClusterMode = disagg.disagg_cluster
    ? 'disagg_cluster'
    : metadataFile
      ? 'metadata'
      : 'static';
  const usedPorts = [
    disagg.port,
    ...[...disagg.context_servers.urls, ...disagg.generation_servers.urls].map(
      (u) => splitHostPort(u).port,
    ),
  ];
  const ctx = {
    model: modelOf(disagg, issues, disaggFile.name),
    gpus: new GpuCounter(),
    nextPort: endpointPortAllocator(usedPorts),
    issues,
  };
  const staticSections =
    mode === 'disagg_cluster'
      ? { context: null, generation: null }
      : { context: disagg.context_servers, generation: disagg.generation_servers };
  const workers = [
    ...workersFor('context', staticSections.context, byRole.context, ctx),
    ...workersFor('generation', staticSections.generation, byRole.generation, ctx),
  ];
  if (mode !== 'static') {
    issues.push(
      note(
        CONSOLE_FILE,
        `${mode} mode: one worker per options file on ports ${workers.map((w) => w.port).join(', ')}; add more in console.yaml`,
      ),
    );
  }
  files[CONSOLE_FILE] = serializeConsoleFile({
    clusterMode: mode,
    expectedMaxInputTokens: null,
    workers,
  });
  return { files, format: 'files', issues };
}
