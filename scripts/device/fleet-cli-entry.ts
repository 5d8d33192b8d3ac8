// Entry of the bundled `disagg-console` CLI for the fleet benchmark on the device machine (no
// node_modules there): the whole command, so `proxy --workers N` forks this same bundle per process.
import { runCli } from '../../electron/cli/main';

void runCli(process.argv.slice(2)).then((code) => {
  if (typeof code === 'number') process.exitCode = code;
});
