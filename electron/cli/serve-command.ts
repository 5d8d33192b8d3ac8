// `disagg-console serve [--port N] [--data-dir D] [--demo]`: the console headless (feature D2), for a browser
// or a remote GPU box behind an SSH tunnel. Starts the backend, serves the console API over HTTP + SSE with a
// per-launch token and the built renderer, prints the console and proxy URLs, and on SIGTERM/SIGINT stops
// every worker it started before exiting. Layer: core (cli).

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { CONSOLE_LOG_LEVELS, type ConsoleLogLevel } from '../../shared/model/logs';
import { type Backend, createBackend, defaultDataDir } from '../core/backend';
import {
  choiceFlag,
  CliError,
  type CommandSpec,
  formatHelp,
  parseFlags,
  portFlag,
  usageErrorLine,
} from '../core/cli-args';
import { type ApiServer, createApiToken, startApiServer } from '../core/http/api-server';
import {
  listenWithPlan,
  planListenPort,
  readStoredEndpoint,
  saveEndpoint,
} from '../core/lifecycle/console-endpoint';
import { acquireDataDirLock, type DataDirLock } from '../core/lifecycle/data-dir-lock';
import { createConsoleLogger } from '../core/logging/console-logger';
import { exitOnStopSignals } from './cli-flags';

type ServeFlag =
  | 'port'
  | 'dataDir'
  | 'isDemo'
  | 'proxyPort'
  | 'staticDir'
  | 'firstWorkerPort'
  | 'shouldStopLeftovers'
  | 'logLevel';

export const SERVE_COMMAND: CommandSpec<ServeFlag> = {
  usage: 'Usage: disagg-console serve [options]',
  description: 'Runs the console without Electron and prints the URL to open in a browser.',
  groups: [
    {
      title: 'Options',
      flags: [
        {
          key: 'port',
          names: ['--port'],
          takes: 'value',
          metavar: 'N',
          help: 'console port on 127.0.0.1 (default: the port of the last start on this data dir,\nelse a free one; 0 = a free port)',
        },
        {
          key: 'dataDir',
          names: ['--data-dir'],
          takes: 'value',
          metavar: 'DIR',
          help: 'topologies, logs, metrics history, settings\n(default $XDG_DATA_HOME/disagg-console or ~/.local/share/disagg-console)',
        },
        {
          key: 'isDemo',
          names: ['--demo'],
          takes: 'switch',
          help: 'run a simulated 4-GPU machine with one context and one generation worker\n(also what a first start without NVIDIA GPUs does)',
        },
        {
          key: 'proxyPort',
          names: ['--proxy-port'],
          takes: 'value',
          metavar: 'N',
          help: 'port of the LLM proxy (default: the setting, 8000; 0 = a free port)',
        },
        {
          key: 'staticDir',
          names: ['--static'],
          takes: 'value',
          metavar: 'DIR',
          help: 'built renderer to serve (default dist/renderer)',
        },
        {
          key: 'firstWorkerPort',
          names: ['--first-worker-port'],
          takes: 'value',
          metavar: 'N',
          help: 'new workers get free ports from N up (default 8001)',
        },
        {
          key: 'shouldStopLeftovers',
          names: ['--stop-leftovers'],
          takes: 'switch',
          help: 'stop every worker a crashed console left running (default: adopt those that\nmatch the topology being started, stop the others)',
        },
        {
          key: 'logLevel',
          names: ['--log_level', '--log-level'],
          takes: 'value',
          metavar: 'LEVEL',
          help: `the console's own log (DATA_DIR/logs/console.log and stderr):\n${CONSOLE_LOG_LEVELS.join(', ')} (default info)`,
        },
      ],
    },
  ],
};

export const SERVE_HELP = formatHelp(SERVE_COMMAND);

export interface ServeArgs {
  /** undefined: the stored port of this data dir (see lifecycle/console-endpoint.ts). */
  port: number | undefined;
  dataDir: string;
  isDemo: boolean;
  proxyPort: number | undefined;
  firstWorkerPort: number | undefined;
  staticDir: string | undefined;
  shouldStopLeftovers: boolean;
  logLevel: ConsoleLogLevel;
  isHelp: boolean;
}

/** Parses the serve flags (`--flag value` or `--flag=value`). */
export function parseServeArgs(
  argv: readonly string[],
  env: Record<string, string | undefined> = process.env,
): { ok: true; args: ServeArgs } | { ok: false; message: string } {
  const parsed = parseFlags(SERVE_COMMAND, argv);
  if (!parsed.ok) return parsed;
  const v = parsed.values as Partial<Record<ServeFlag, string>>;
  try {
    const args: ServeArgs = {
      port: v.port !== undefined ? portFlag('--port', v.port, true) : undefined,
      dataDir: v.dataDir !== undefined ? resolve(v.dataDir) : defaultDataDir(env),
      isDemo: parsed.values.isDemo === true,
      proxyPort:
        v.proxyPort !== undefined ? portFlag('--proxy-port', v.proxyPort, true) : undefined,
      firstWorkerPort:
        v.firstWorkerPort !== undefined
          ? portFlag('--first-worker-port', v.firstWorkerPort, false)
          : undefined,
      staticDir: v.staticDir !== undefined ? resolve(v.staticDir) : undefined,
      shouldStopLeftovers: parsed.values.shouldStopLeftovers === true,
      logLevel:
        v.logLevel !== undefined
          ? choiceFlag('--log_level', v.logLevel, CONSOLE_LOG_LEVELS)
          : 'info',
      isHelp: parsed.isHelp,
    };
    return { ok: true, args };
  } catch (err) {
    if (err instanceof CliError) return { ok: false, message: err.message };
    throw err;
  }
}

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Disagg Console</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>Disagg Console</h1>
<p>The console backend and the proxy are running, but the user interface has not been built.</p>
<p>Build it once with <code>npm run build:renderer</code>, then reload this page.</p>
<p>The console API answers under <code>/api/</code> with the token of the URL you opened.</p>
</body></html>
`;

/** The renderer folder to serve: the built one, or a page that says how to build it. */
function staticDirFor(args: ServeArgs): string {
  const built = args.staticDir ?? fileURLToPath(new URL('../../dist/renderer', import.meta.url));
  if (existsSync(join(built, 'index.html'))) return built;
  const fallback = join(args.dataDir, 'renderer-not-built');
  mkdirSync(fallback, { recursive: true });
  writeFileSync(join(fallback, 'index.html'), NOT_BUILT_PAGE);
  return fallback;
}

/** Runs the command; resolves undefined while serving, or an exit code. */
export async function runServeCommand(argv: string[]): Promise<number | undefined> {
  const parsed = parseServeArgs(argv);
  if (!parsed.ok) {
    process.stderr.write(usageErrorLine('serve', parsed.message));
    return 2;
  }
  const args = parsed.args;
  if (args.isHelp) {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  // The console's log (logging/console-logger.ts) opens first, so the lock and the start are in it too.
  mkdirSync(args.dataDir, { recursive: true });
  const logger = createConsoleLogger({ dir: join(args.dataDir, 'logs'), level: args.logLevel });
  const lifecycleLog = logger.forComponent('lifecycle');
  const onUnexpectedError = (err: unknown): void =>
    logger.log('error', 'unexpected error', { err });
  process.on('unhandledRejection', onUnexpectedError);
  process.on('uncaughtException', onUnexpectedError);

  // One console per data dir: taken before anything in it is read or started (lifecycle/data-dir-lock.ts).
  const say = (message: string): void => lifecycleLog('warn', message);
  let lock: DataDirLock;
  try {
    lock = await acquireDataDirLock(args.dataDir, { log: say });
  } catch (err) {
    process.stderr.write(`serve: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }

  // Signals are handled from the start: a SIGTERM while workers are starting still stops them.
  let backend: Backend | null = null;
  let server: ApiServer | null = null;
  const signals = exitOnStopSignals((signal) => {
    lifecycleLog('info', `${signal}: stopping every worker this console started`, { signal });
    // A backend still starting is disposed by the start path below once it exists.
    if (backend === null) return undefined;
    const running = backend;
    return (async () => {
      await server?.close();
      await running.dispose();
      lock.release();
    })();
  }, onUnexpectedError);

  let started: Backend;
  try {
    started = await createBackend({
      dataDir: args.dataDir,
      platform: { name: 'headless' },
      isDemo: args.isDemo,
      isDemoOnFirstStartWithoutGpus: true,
      proxyPort: args.proxyPort,
      firstWorkerPort: args.firstWorkerPort,
      leftovers: args.shouldStopLeftovers ? 'stop' : 'adopt',
      logger,
    });
  } catch (err) {
    lock.release();
    process.stderr.write(
      `serve: the console did not start: ${err instanceof Error ? err.message : String(err)}\n`,
    );
    return 1;
  }
  if (signals.isStopping()) {
    await started.dispose();
    lock.release();
    process.exit(0);
  }
  backend = started;
  const stored = readStoredEndpoint(args.dataDir, say);
  const token = stored.token ?? createApiToken();
  const plan = planListenPort(args.port, stored);
  const apiLog = logger.forComponent('api');
  try {
    server = await listenWithPlan(
      plan,
      (port) =>
        startApiServer({
          backend: started,
          port,
          token,
          staticDir: staticDirFor(args),
          log: (message, err) => apiLog('error', message, { err }),
        }),
      say,
    );
  } catch (err) {
    await started.dispose();
    lock.release();
    const code = (err as NodeJS.ErrnoException).code;
    process.stderr.write(
      code === 'EADDRINUSE'
        ? `serve: port ${plan.ports[0] ?? 0} on 127.0.0.1 is already in use\n`
        : `serve: cannot listen: ${String(err)}\n`,
    );
    return 1;
  }
  await saveEndpoint(args.dataDir, { port: server.port, token });
  await lock.setUrl(server.url);
  process.stdout.write(
    `API listening on ${server.url}\nConsole: ${server.consoleUrl}\nProxy: ${started.proxyUrl}\n`,
  );
  return undefined;
}
