#!/usr/bin/env node
// The `disagg-console` command. Runs the TypeScript sources through tsx so the command works right
// after `npm ci`, with no build step.
import { register } from 'tsx/esm/api';

register();
const { runCli } = await import('../electron/cli/main.ts');
const exitCode = await runCli(process.argv.slice(2));
if (typeof exitCode === 'number') process.exitCode = exitCode;
