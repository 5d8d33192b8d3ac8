// Entry of the bundled `disagg-console sim-worker` used on the device machine, where there is no
// node_modules. Only the sim-worker subcommand is bundled (the supervisor calls `<cli> sim-worker ...`).
import { runSimWorkerCommand } from '../../electron/cli/sim-worker-command';

const [subcommand, ...rest] = process.argv.slice(2);
if (subcommand !== 'sim-worker') {
  process.stderr.write(`device bundle: only 'sim-worker' is bundled, got '${subcommand ?? ''}'\n`);
  process.exitCode = 2;
} else {
  void runSimWorkerCommand(rest).then((code) => {
    if (typeof code === 'number') process.exitCode = code;
  });
}
