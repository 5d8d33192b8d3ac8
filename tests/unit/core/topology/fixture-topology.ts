// A small valid topology (README minimal pair: one context and one generation worker, static urls) that
// the topology tests start from and then break one thing at a time.

import type { TopologyFiles } from '../../../../shared/model/topology';

export const CONSOLE_YAML = `# test topology
cluster_mode: static
expected_max_input_tokens: 2048
workers:
  - name: ctx0
    role: context
    gpus: [0]
    host: localhost
    port: 8001
    model: TinyLlama/TinyLlama-1.1B-Chat-v1.0
    engine: simulated
    backend: pytorch
    options_file: ctx.yaml
  - name: gen0
    role: generation
    gpus: [1]
    host: localhost
    port: 8002
    model: TinyLlama/TinyLlama-1.1B-Chat-v1.0
    engine: simulated
    backend: pytorch
    options_file: gen.yaml
`;

export const DISAGG_YAML = `hostname: localhost
port: 8000
backend: pytorch
context_servers:
  num_instances: 1
  urls:
    - "localhost:8001"
generation_servers:
  num_instances: 1
  urls:
    - "localhost:8002"
`;

export const CTX_YAML = `disable_overlap_scheduler: true
cache_transceiver_config:
  backend: UCX
  max_tokens_in_buffer: 2048
`;

export const GEN_YAML = `cache_transceiver_config:
  backend: UCX
  max_tokens_in_buffer: 2048
`;

/** A fresh copy of the valid topology. */
export function validTopology(): TopologyFiles {
  return {
    'console.yaml': CONSOLE_YAML,
    'disagg_config.yaml': DISAGG_YAML,
    'ctx.yaml': CTX_YAML,
    'gen.yaml': GEN_YAML,
  };
}

/** The valid topology with one file's text edited by a replace (which must match). */
export function withEdit(
  file: string,
  from: string,
  to: string,
  base: TopologyFiles = validTopology(),
): TopologyFiles {
  const text = base[file];
  if (text === undefined || !text.includes(from)) {
    throw new Error(`fixture edit: ${JSON.stringify(from)} not in ${file}`);
  }
  return { ...base, [file]: text.replace(from, to) };
}
