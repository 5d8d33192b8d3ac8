// The common fields the Configuration forms edit (feature K2), read from and written to the YAML text with
// shared/logic/config-write.ts, so comments and layout elsewhere stay byte-identical. Layer: renderer (pure).

import { documentToText, setConfigValue } from '../../shared/logic/config-write';
import { readYamlValue } from '../../shared/logic/yaml-guard';
import { parseYaml } from '../../shared/logic/yaml-locate';
import type { TopologyFileKind } from './lint-file';

export type FieldType = 'int' | 'number' | 'bool' | 'enum' | 'string';

export interface FieldSpec {
  path: (string | number)[];
  label: string;
  type: FieldType;
  options?: readonly string[];
  min?: number;
  max?: number;
  hint?: string;
}

const ROUTERS = ['round_robin', 'load_balancing', 'kv_cache_aware'] as const;

/** Form fields by file kind. */
export const FORM_FIELDS: Partial<Record<TopologyFileKind, FieldSpec[]>> = {
  disagg: [
    { path: ['port'], label: 'Proxy port', type: 'int', min: 1, max: 65535 },
    {
      path: ['max_retries'],
      label: 'Max retries',
      type: 'int',
      min: 0,
      hint: 'extra attempts on connection errors',
    },
    {
      path: ['context_servers', 'router', 'type'],
      label: 'Context router',
      type: 'enum',
      options: ROUTERS,
    },
    {
      path: ['generation_servers', 'router', 'type'],
      label: 'Generation router',
      type: 'enum',
      options: ROUTERS,
    },
    {
      path: ['generation_servers', 'router', 'use_tokens'],
      label: 'Balance by tokens',
      type: 'bool',
      hint: 'load_balancing only',
    },
  ],
  worker: [
    {
      path: ['cache_transceiver_config', 'backend'],
      label: 'KV transfer backend',
      type: 'enum',
      options: ['DEFAULT', 'UCX', 'NIXL', 'MPI'],
      hint: 'same on both roles',
    },
    {
      path: ['cache_transceiver_config', 'max_tokens_in_buffer'],
      label: 'Transfer buffer (tokens)',
      type: 'int',
      min: 1,
      hint: '≥ longest prompt',
    },
    { path: ['max_batch_size'], label: 'Max batch size', type: 'int', min: 1 },
    { path: ['max_num_tokens'], label: 'Max tokens per batch', type: 'int', min: 1 },
    {
      path: ['kv_cache_config', 'free_gpu_memory_fraction'],
      label: 'KV cache fraction',
      type: 'number',
      min: 0,
      max: 1,
      hint: '0..1 of free GPU memory',
    },
    {
      path: ['disable_overlap_scheduler'],
      label: 'Disable overlap scheduler',
      type: 'bool',
      hint: 'must be on for context workers',
    },
  ],
  metadata: [
    { path: ['hostname'], label: 'etcd host', type: 'string' },
    { path: ['port'], label: 'etcd port', type: 'int', min: 1, max: 65535 },
    { path: ['refresh_interval'], label: 'Refresh interval (s)', type: 'number', min: 0 },
  ],
};

/** The value at a path of the text, or undefined (also when the text does not parse). */
export function readField(text: string, path: readonly (string | number)[]): unknown {
  const read = readYamlValue(text, 'file.yaml', { version: '1.2' });
  if (!read.ok) return undefined;
  let cur: unknown = read.value;
  for (const seg of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

/** Turns the form's input into the YAML value, or an error sentence. */
export function coerceField(
  spec: FieldSpec,
  input: string | boolean,
): { ok: true; value: unknown } | { ok: false; message: string } {
  if (spec.type === 'bool') return { ok: true, value: Boolean(input) };
  const raw = String(input).trim();
  if (spec.type === 'string' || spec.type === 'enum') {
    if (spec.type === 'enum' && spec.options && !spec.options.includes(raw)) {
      return { ok: false, message: `pick one of ${spec.options.join(', ')}` };
    }
    return { ok: true, value: raw };
  }
  const n = Number(raw);
  if (raw === '' || !Number.isFinite(n)) return { ok: false, message: 'must be a number' };
  if (spec.type === 'int' && !Number.isInteger(n)) {
    return { ok: false, message: 'must be a whole number' };
  }
  if (spec.min !== undefined && n < spec.min) {
    return { ok: false, message: `must be at least ${spec.min}` };
  }
  if (spec.max !== undefined && n > spec.max) {
    return { ok: false, message: `must be at most ${spec.max}` };
  }
  return { ok: true, value: n };
}

/** The text with one field set; comments and the rest of the file are kept. Throws when the text does not parse. */
export function writeField(
  text: string,
  path: readonly (string | number)[],
  value: unknown,
): string {
  const parsed = parseYaml(text, 'file.yaml');
  if (parsed.issues.some((i) => i.severity === 'error')) {
    throw new Error('fix the YAML syntax errors first; the form edits a valid file');
  }
  setConfigValue(parsed.document, path, value);
  return documentToText(parsed.document);
}
