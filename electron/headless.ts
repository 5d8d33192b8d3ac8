// The plain-Node entry of the console (style-guide §4): `tsx electron/headless.ts --data-dir D --port 0
// [--static dist/renderer] [--demo]` runs the same backend as Electron with the console API over HTTP + SSE
// and prints `API listening on http://127.0.0.1:<port>`, then the console and proxy URLs. Used by dev and e2e.
// Layer: core (entry).
import { runServeCommand } from './cli/serve-command';

const code = await runServeCommand(process.argv.slice(2));
if (typeof code === 'number') process.exitCode = code;
