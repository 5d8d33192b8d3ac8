// Worker-thread side of the embedded proxy: starts the proxy runtime from workerData, batches request
// records to the parent over the thread's MessagePort, and applies membership and routing changes it
// receives. Runs on its own event loop so a UI burst cannot stall tokens (docs/architecture.md).
// Layer: core.
import { parentPort, workerData } from 'node:worker_threads';

import { ProxyCpuMeter } from './cpu-meter';
import { startProxyRuntime } from './proxy-runtime';
import type {
  ProxyThreadCommand,
  ProxyThreadEvent,
  ProxyThreadInit,
} from './proxy-thread-protocol';

function post(ev: ProxyThreadEvent): void {
  parentPort?.postMessage(ev);
}

async function main(): Promise<void> {
  const init = workerData as ProxyThreadInit;
  const runtime = await startProxyRuntime({
    config: init.config,
    metadata: init.metadata,
    settings: init.settings,
    env: init.env,
    overrides: { ...init.overrides, recordBatchMs: init.recordBatchMs },
    shouldWaitForWorkers: init.shouldWaitForWorkers,
    log: (level, message) => post({ type: 'log', level, message }),
  });
  const cpu = ProxyCpuMeter.forThread();
  runtime.proxy.onRecords((records) => {
    cpu.count(records);
    post({ type: 'records', records });
  });
  parentPort?.on('message', (cmd: ProxyThreadCommand) => {
    switch (cmd.type) {
      case 'membership':
        runtime.proxy.updateMembership(cmd.update);
        break;
      case 'addWorker':
        runtime.proxy.addWorker(cmd.role, cmd.url);
        break;
      case 'removeWorker':
        runtime.proxy.removeWorker(cmd.role, cmd.url);
        break;
      case 'routing':
        runtime.proxy.setRouting(cmd.update);
        break;
      case 'trtllmVersion':
        runtime.proxy.setTrtllmVersion(cmd.version);
        break;
      case 'stats':
        post({
          type: 'stats',
          id: cmd.id,
          workers: runtime.proxy.workers(),
          isReady: runtime.proxy.isReady(),
          metricsText: runtime.proxy.metricsText(),
          cpu: cpu.sample(),
        });
        break;
      case 'crash':
        // Outside this handler's stack, so it is uncaught like a real bug in a callback.
        if (cmd.how === 'exit') process.exit(1);
        setImmediate(() => {
          throw new Error('proxy thread crash requested (crashForTesting)');
        });
        break;
      case 'stop':
        runtime.stop(cmd.drainMs).then(
          () => post({ type: 'stopped' }),
          (err: unknown) =>
            post({ type: 'log', level: 'error', message: `stop failed: ${String(err)}` }),
        );
        break;
    }
  });
  post({ type: 'listening', port: runtime.port });
}

main().catch((err: unknown) => {
  const e = err as { message?: string; code?: string };
  post({ type: 'failed', message: e.message ?? String(err), code: e.code });
});
