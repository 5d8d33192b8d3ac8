// The one command builder for a worker: the real `trtllm-serve` and the simulated worker get the same
// upstream flags (docs/trtllm-protocol.md 1.1, 1.4, 7.1, 7.2). Produces argument arrays for spawn, never a
// shell line. Layer: shared (pure).
import type { WorkerRole, WorkerSpec } from '../model/worker';

export interface WorkerCommand {
  command: string;
  args: string[];
  /** The complete environment of the child: base env, then the worker's extraEnv, then CUDA_VISIBLE_DEVICES. */
  env: Record<string, string>;
}

export interface WorkerCommandOptions {
  /** The console's own environment (process.env), entries without a value dropped. */
  baseEnv: Record<string, string | undefined>;
  /** Used when spec.binaryPath is unset; default 'trtllm-serve', which spawn looks up on the child's PATH. */
  trtllmServeBinary?: string;
  /** For engine 'simulated': the Node binary (process.execPath) and bin/disagg-console.mjs. */
  nodeBinary: string;
  cliScript: string;
}

/**
 * `ServerRole[value.upper()]` upstream accepts any case (protocol 1.1); the names are written the way the enum
 * spells them.
 */
export function serverRoleName(role: WorkerRole): 'CONTEXT' | 'GENERATION' {
  return role === 'context' ? 'CONTEXT' : 'GENERATION';
}

/** The flags after the binary: `MODEL --host H --port P --backend B --tp_size N --pp_size M [...]`. */
export function buildWorkerArgs(spec: WorkerSpec): string[] {
  const args = [
    spec.model,
    '--host',
    spec.host,
    '--port',
    String(spec.port),
    '--backend',
    spec.backend,
    '--tp_size',
    String(spec.tpSize),
    '--pp_size',
    String(spec.ppSize),
  ];
  if (spec.optionsFile !== null) args.push('--extra_llm_api_options', spec.optionsFile);
  const reg = spec.registration;
  switch (reg.kind) {
    case 'static':
      break;
    case 'metadata':
      // 7.1: the metadata server needs the role flag (assertion otherwise); written as `--server_role`, the
      // click option's real spelling (protocol 1.1: the dashed form in the docs is unverified).
      args.push(
        '--server_role',
        serverRoleName(spec.role),
        '--metadata_server_config_file',
        reg.metadataServerConfigFile,
      );
      break;
    case 'disagg_cluster':
      args.push('--server_role', serverRoleName(spec.role));
      // 7.2: --disagg_cluster_uri overrides the YAML's disagg_cluster.cluster_uri; without it the YAML section is used.
      if (reg.clusterUri !== null) args.push('--disagg_cluster_uri', reg.clusterUri);
      break;
  }
  return args;
}

/** The child environment; CUDA_VISIBLE_DEVICES comes last so extraEnv cannot move a worker off its GPUs. */
export function buildWorkerEnv(
  spec: WorkerSpec,
  baseEnv: Record<string, string | undefined>,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(baseEnv)) if (value !== undefined) env[key] = value;
  Object.assign(env, spec.extraEnv);
  env.CUDA_VISIBLE_DEVICES = spec.gpus.join(',');
  return env;
}

/** The process to spawn for one worker. */
export function buildWorkerCommand(spec: WorkerSpec, opts: WorkerCommandOptions): WorkerCommand {
  const env = buildWorkerEnv(spec, opts.baseEnv);
  const args = buildWorkerArgs(spec);
  if (spec.engine === 'simulated') {
    // In the desktop app nodeBinary is Electron's own executable (process.execPath); this variable makes it
    // run the CLI as plain Node. Plain Node ignores it.
    return {
      command: opts.nodeBinary,
      args: [opts.cliScript, 'sim-worker', ...args],
      env: { ...env, ELECTRON_RUN_AS_NODE: '1' },
    };
  }
  const command = spec.binaryPath ?? opts.trtllmServeBinary ?? 'trtllm-serve';
  return { command, args, env };
}

const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** A POSIX-shell rendering of a command for display and export only; the console never runs it. */
export function formatCommandLine(
  cmd: Pick<WorkerCommand, 'command' | 'args'>,
  envKeys: Record<string, string> = {},
): string {
  const quote = (s: string): string =>
    s !== '' && SAFE.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
  const env = Object.entries(envKeys).map(([k, v]) => `${k}=${quote(v)}`);
  return [...env, quote(cmd.command), ...cmd.args.map(quote)].join(' ');
}
