// The store under test over the fake API and the fake cluster document (two workers and a remote one on a
// simulated 4-GPU machine), shared by the store tests.
import { createAppStore } from '../../../../renderer/store/create-app-store';
import { createFakeApi, inventory, view } from './fake-api';
import { createFakeCluster } from './fake-cluster';

const EMPTY_SNAPSHOT = {
  fromMs: 0,
  toMs: 0,
  stepSec: 1,
  overall: [],
  perWorker: {},
  iteration: {},
  gpus: [],
};
export const TOPOLOGY_FILES = {
  'disagg_config.yaml':
    'hostname: localhost\nport: 8000\ncontext_servers:\n  num_instances: 1\n  urls:\n    - localhost:8001\ngeneration_servers:\n  num_instances: 1\n  urls:\n    - localhost:8002\n',
  'console.yaml':
    '# kept\ncluster_mode: static\nworkers:\n  - name: ctx0\n    role: context\n    gpus: [0]\n    host: localhost\n    port: 8001\n    model: tiny\n    engine: simulated\n    backend: pytorch\n',
};

export function setup(extra: Parameters<typeof createFakeApi>[0] = {}) {
  const workers = [
    view('ctx0', 'context', [0]),
    view('gen0', 'generation', [1], 'starting'),
    view('remote1', 'generation', [7], 'ready', 'remote'),
  ];
  const cluster = createFakeCluster(workers, TOPOLOGY_FILES);
  const fake = createFakeApi({
    ...cluster.handlers,
    'gpus:list': () => Promise.resolve(inventory(4)),
    'topology:history': () => Promise.resolve([]),
    'metrics:snapshot': () => Promise.resolve(EMPTY_SNAPSHOT),
    'proxy:info': () =>
      Promise.resolve({
        url: 'http://127.0.0.1:8000',
        host: '127.0.0.1',
        port: 8000,
        isRunning: true,
      }),
    'cluster:status': () =>
      Promise.resolve({
        mode: 'static',
        etcd: { state: 'off', endpoint: null, message: null },
        isReady: null,
        remoteWorkers: [],
      }),
    ...extra,
  });
  cluster.connect((event) => fake.emit('cluster:changed', event));
  let now = 1_700_000_000_000;
  const app = createAppStore({ api: fake.client, now: () => now, fetch: null });
  return { fake, cluster, app, store: app.store, advance: (ms: number) => (now += ms) };
}
