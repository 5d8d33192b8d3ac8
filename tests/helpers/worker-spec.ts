// A WorkerSpec for tests: one context worker on GPU 0 at 127.0.0.1, TP 1 x PP 1, static registration; a test
// names only the fields it is about. Layer: tests.
import type { WorkerSpec } from '../../shared/model/worker';

export function workerSpec(over: Partial<WorkerSpec> = {}): WorkerSpec {
  return {
    id: 'ctx0',
    role: 'context',
    gpus: [0],
    host: '127.0.0.1',
    port: 8001,
    model: 'm',
    engine: 'trtllm-serve',
    backend: 'pytorch',
    tpSize: 1,
    ppSize: 1,
    optionsFile: null,
    extraEnv: {},
    registration: { kind: 'static' },
    ...over,
  };
}
