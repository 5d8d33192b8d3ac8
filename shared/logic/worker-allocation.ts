// Where a new worker goes: its default name (`ctx<n>` / `gen<n>`), a port no topology worker, live worker or
// the proxy holds, and which GPUs are busy. One home for these rules: the UI's live checks, workers:add, the
// planner's apply and the cluster command preconditions all use them. The OS port probe is a parameter
// (core passes a bind test). Layer: shared (pure).

import type { WorkerRole } from '../model/worker';

/** The default name for the next worker of a role: ctx0, ctx1 ... (gen0 ...) not already taken. */
export function nextWorkerName(role: WorkerRole, taken: Iterable<string>): string {
  const names = new Set(taken);
  const prefix = role === 'context' ? 'ctx' : 'gen';
  for (let i = 0; ; i += 1) if (!names.has(`${prefix}${i}`)) return `${prefix}${i}`;
}

/** Something placed on GPUs: a topology worker or a running worker's spec. */
export interface GpuPlacement {
  name: string;
  gpus: readonly number[];
}

/** GPU index (as a string) -> the names placed on it, each list sorted and without repeats. */
export function gpuAssignmentsOf(placements: Iterable<GpuPlacement>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const p of placements) {
    for (const gpu of p.gpus) {
      const list = (out[String(gpu)] ??= []);
      if (!list.includes(p.name)) list.push(p.name);
    }
  }
  for (const list of Object.values(out)) list.sort();
  return out;
}

/** The GPUs of `gpus` that someone other than `self` holds, with their holders. */
export function busyGpus(
  gpus: readonly number[],
  assignments: Record<string, string[]>,
  self?: string,
): { gpu: number; holders: string[] }[] {
  const out: { gpu: number; holders: string[] }[] = [];
  for (const gpu of new Set(gpus)) {
    const holders = (assignments[String(gpu)] ?? []).filter((name) => name !== self);
    if (holders.length > 0) out.push({ gpu, holders });
  }
  return out;
}

/** GPUs held by two or more names: what "no GPU double-booked" forbids. */
export function doubleBookedGpus(
  assignments: Record<string, string[]>,
): { gpu: number; holders: string[] }[] {
  return Object.entries(assignments)
    .filter(([, holders]) => holders.length > 1)
    .map(([gpu, holders]) => ({ gpu: Number(gpu), holders }));
}

/** The ports a new worker must not take, from a port range. */
export interface PortSearch {
  first: number;
  last: number;
  /** Ports of topology workers, live workers and the proxy. */
  taken: ReadonlySet<number>;
  /** Whether nothing else on the machine holds the port (core: a bind test). */
  isFree: (port: number) => Promise<boolean>;
}

/** The first port of the range that is neither taken nor held by another process; null when none is. */
export async function firstFreePort(search: PortSearch): Promise<number | null> {
  for (let port = search.first; port <= search.last; port++) {
    if (search.taken.has(port)) continue;
    if (await search.isFree(port)) return port;
  }
  return null;
}
