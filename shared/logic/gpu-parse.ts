// Pure parsers of nvidia-smi output: `--query-gpu` CSV (with or without header and units),
// `--query-compute-apps` CSV, the `topo -m` matrix (ANSI escapes, NV#/PIX/PXB/PHB/NODE/SYS, affinity columns)
// and `-q -x` XML for what the CSV lacks. Layer: shared (pure). "[N/A]", "N/A", "[Not Supported]" -> null.
import type {
  GpuComputeApp,
  GpuInfo,
  GpuLink,
  GpuLinkKind,
  GpuSample,
  GpuTopology,
  GpuTopologyRow,
} from '../model/gpu';

/** The fields the inventory asks for, in this order (`--query-gpu=` joined with commas). */
export const GPU_QUERY_FIELDS = [
  'index',
  'uuid',
  'name',
  'pci.bus_id',
  'memory.total',
  'memory.used',
  'memory.free',
  'utilization.gpu',
  'utilization.memory',
  'temperature.gpu',
  'power.draw',
  'power.limit',
  'clocks.sm',
  'clocks.max.sm',
  'driver_version',
  'compute_cap',
] as const;

export const COMPUTE_APP_FIELDS = ['pid', 'process_name', 'gpu_uuid', 'used_memory'] as const;

// nvidia-smi prints some fields in the header under their long name (clocks.sm -> clocks.current.sm,
// used_memory -> used_gpu_memory); map them back so a header and a field list agree.
const HEADER_ALIASES: Record<string, string> = {
  'clocks.current.sm': 'clocks.sm',
  'clocks.current.memory': 'clocks.mem',
  'clocks.max.memory': 'clocks.max.mem',
  used_gpu_memory: 'used_memory',
};

const NA = /^\[?(n\/a|not supported|unknown error|insufficient permissions|gpu is lost)\]?$/i;

/** A CSV cell as text, null when nvidia-smi reports it unavailable. */
export function cellText(raw: string | undefined): string | null {
  if (raw === undefined) return null;
  const t = raw.trim();
  return t === '' || NA.test(t) ? null : t;
}

/** A numeric cell with or without its unit ("81559 MiB", "131.98 W", "0 %"), null when unavailable. */
export function cellNumber(raw: string | undefined): number | null {
  const t = cellText(raw);
  if (t === null) return null;
  const m = /^(-?\d+(?:\.\d+)?)(?:\s*[A-Za-z%/]+)?$/.exec(t);
  return m ? Number(m[1]) : null;
}

function headerKey(name: string): string {
  const bare = name.replace(/\s*\[[^\]]*\]\s*$/, '').trim();
  return HEADER_ALIASES[bare] ?? bare;
}

/**
 * Rows of a `--query-*` CSV keyed by field name. `fields` is the query's field list: needed for
 * `noheader`, and used by position when a header is present with the same number of columns.
 */
export function parseQueryCsv(text: string, fields?: readonly string[]): Record<string, string>[] {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^no running/i.test(l));
  if (lines.length === 0) return [];
  const first = (lines[0] ?? '').split(',').map((c) => c.trim());
  const hasHeader = fields
    ? first.some((c, i) => headerKey(c) === fields[i] || /\[[^\]]*\]$/.test(c))
    : true;
  let keys: string[];
  if (hasHeader) {
    keys = fields && first.length === fields.length ? [...fields] : first.map(headerKey);
    lines.shift();
  } else {
    keys = [...(fields ?? [])];
  }
  return lines.map((line) => {
    const cells = line.split(',');
    // A GPU name could in theory hold a comma; give any surplus cells to the 'name' column.
    if (cells.length > keys.length && keys.includes('name')) {
      const at = keys.indexOf('name');
      const extra = cells.length - keys.length;
      cells.splice(at, extra + 1, cells.slice(at, at + extra + 1).join(','));
    }
    const row: Record<string, string> = {};
    keys.forEach((k, i) => {
      row[k] = (cells[i] ?? '').trim();
    });
    return row;
  });
}

export interface GpuQueryResult {
  gpus: GpuInfo[];
  samples: GpuSample[];
}

/** GpuInfo + GpuSample per row of `--query-gpu=GPU_QUERY_FIELDS` output (csv, with or without header/units). */
export function parseGpuQueryCsv(
  text: string,
  atMs: number,
  fields: readonly string[] = GPU_QUERY_FIELDS,
): GpuQueryResult {
  const gpus: GpuInfo[] = [];
  const samples: GpuSample[] = [];
  for (const row of parseQueryCsv(text, fields)) {
    const index = cellNumber(row.index);
    if (index === null) continue;
    gpus.push({
      index,
      uuid: cellText(row.uuid) ?? `GPU-${index}`,
      name: cellText(row.name) ?? 'unknown GPU',
      pciBusId: cellText(row['pci.bus_id']) ?? '',
      memoryTotalMiB: cellNumber(row['memory.total']) ?? 0,
      powerLimitW: cellNumber(row['power.limit']),
      maxSmClockMHz: cellNumber(row['clocks.max.sm']),
      driverVersion: cellText(row.driver_version),
      computeCap: cellText(row.compute_cap),
      architecture: null,
      simulated: false,
    });
    samples.push({
      index,
      atMs,
      memoryUsedMiB: cellNumber(row['memory.used']),
      memoryTotalMiB: cellNumber(row['memory.total']),
      utilizationPct: cellNumber(row['utilization.gpu']),
      memoryUtilizationPct: cellNumber(row['utilization.memory']),
      temperatureC: cellNumber(row['temperature.gpu']),
      powerDrawW: cellNumber(row['power.draw']),
      powerLimitW: cellNumber(row['power.limit']),
      smClockMHz: cellNumber(row['clocks.sm']),
    });
  }
  return { gpus, samples };
}

/** `--query-compute-apps=pid,process_name,gpu_uuid,used_memory` (header-only output = no processes). */
export function parseComputeAppsCsv(
  text: string,
  fields: readonly string[] = COMPUTE_APP_FIELDS,
): GpuComputeApp[] {
  const apps: GpuComputeApp[] = [];
  for (const row of parseQueryCsv(text, fields)) {
    const pid = cellNumber(row.pid);
    if (pid === null) continue;
    apps.push({
      pid,
      processName: cellText(row.process_name) ?? '',
      gpuUuid: cellText(row.gpu_uuid),
      usedMemoryMiB: cellNumber(row.used_memory),
    });
  }
  return apps;
}

// eslint-disable-next-line no-control-regex -- ANSI escapes start with ESC; nvidia-smi and tqdm print them.
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;
const DEVICE = /^(GPU|NIC)\d+$/;

/** One cell of the `topo -m` matrix, classified by the legend. */
export function parseTopoLink(raw: string): GpuLink {
  const t = raw.trim();
  const nv = /^NV(\d+)$/.exec(t);
  if (nv) return { kind: 'nvlink', nvlinkCount: Number(nv[1]), raw: t };
  const kinds: Record<string, GpuLinkKind> = {
    X: 'self',
    PIX: 'pix',
    PXB: 'pxb',
    PHB: 'phb',
    NODE: 'node',
    SYS: 'sys',
  };
  return { kind: kinds[t] ?? 'unknown', nvlinkCount: null, raw: t };
}

/**
 * `nvidia-smi topo -m`: the header names the device columns then the affinity columns; each row is a device,
 * its matrix cells, then (GPU rows only) the affinity values. Cells are tab-separated, but nvidia-smi pads
 * some with double tabs (the H100 fixture has "0\t\tN/A"), so empty cells are dropped and values matched in order.
 */
export function parseTopoMatrix(text: string): GpuTopology {
  const lines = text.replace(ANSI, '').split(/\r?\n/);
  const headerAt = lines.findIndex((l) => /\bGPU0\b/.test(l));
  const topo: GpuTopology = { devices: [], links: {}, gpus: [], nicNames: {} };
  if (headerAt < 0) return topo;
  const header = (lines[headerAt] ?? '')
    .split('\t')
    .map((c) => c.trim())
    .filter((c) => c !== '');
  topo.devices = header.filter((c) => DEVICE.test(c));
  const extraCols = header.filter((c) => !DEVICE.test(c));
  for (const line of lines.slice(headerAt + 1)) {
    if (line.trim() === '' || /^legend/i.test(line.trim())) break;
    const cells = line
      .split('\t')
      .map((c) => c.trim())
      .filter((c) => c !== '');
    const device = cells[0];
    if (device === undefined || !DEVICE.test(device)) continue;
    const row: Record<string, GpuLink> = {};
    topo.devices.forEach((col, i) => {
      row[col] = parseTopoLink(cells[1 + i] ?? '');
    });
    topo.links[device] = row;
    if (device.startsWith('GPU')) {
      const rest = cells.slice(1 + topo.devices.length);
      const value = (name: string): string | null => cellText(rest[extraCols.indexOf(name)]);
      const gpuRow: GpuTopologyRow = {
        device,
        index: Number(device.slice(3)),
        cpuAffinity: value('CPU Affinity'),
        numaAffinity: value('NUMA Affinity'),
        gpuNumaId: value('GPU NUMA ID'),
      };
      topo.gpus.push(gpuRow);
    }
  }
  // NIC legend: "  NIC0: mlx5_0"
  for (const line of lines) {
    const m = /^\s*(NIC\d+):\s*(\S+)\s*$/.exec(line);
    if (m && m[1] && m[2]) topo.nicNames[m[1]] = m[2];
  }
  return topo;
}

/** A minimal XML element tree: enough for nvidia-smi's attribute-light, entity-light output. */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const decode = (s: string): string =>
  s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (all, e: string) => {
    if (e.startsWith('#x') || e.startsWith('#X')) {
      return String.fromCodePoint(parseInt(e.slice(2), 16));
    }
    if (e.startsWith('#')) return String.fromCodePoint(Number(e.slice(1)));
    return ENTITIES[e] ?? all;
  });

/** Parses XML into an element tree; skips the prolog, DOCTYPE and comments. */
export function parseXml(text: string): XmlElement {
  const root: XmlElement = { name: '#root', attrs: {}, children: [], text: '' };
  const stack: XmlElement[] = [root];
  const token =
    /<!--[\s\S]*?-->|<\?[\s\S]*?\?>|<!DOCTYPE[^>]*>|<\/([\w.:-]+)\s*>|<([\w.:-]+)((?:\s+[\w.:-]+\s*=\s*"[^"]*")*)\s*(\/?)>|([^<]+)/g;
  let m: RegExpExecArray | null;
  while ((m = token.exec(text)) !== null) {
    const top = stack[stack.length - 1] ?? root;
    if (m[1] !== undefined) {
      if (stack.length > 1) stack.pop();
    } else if (m[2] !== undefined) {
      const attrs: Record<string, string> = {};
      for (const a of (m[3] ?? '').matchAll(/([\w.:-]+)\s*=\s*"([^"]*)"/g)) {
        if (a[1]) attrs[a[1]] = decode(a[2] ?? '');
      }
      const el: XmlElement = { name: m[2], attrs, children: [], text: '' };
      top.children.push(el);
      if (m[4] !== '/') stack.push(el);
    } else if (m[5] !== undefined) {
      top.text += decode(m[5]);
    }
  }
  return root;
}

/** The first element at a '/'-separated path of child names. */
export function xmlFind(el: XmlElement | undefined, path: string): XmlElement | undefined {
  let cur = el;
  for (const part of path.split('/')) cur = cur?.children.find((c) => c.name === part);
  return cur;
}

const xmlText = (el: XmlElement | undefined, path: string): string | null =>
  cellText(xmlFind(el, path)?.text);
const xmlNumber = (el: XmlElement | undefined, path: string): number | null =>
  cellNumber(xmlFind(el, path)?.text);

export interface SmiXmlGpu {
  pciBusId: string;
  productName: string | null;
  architecture: string | null;
  uuid: string | null;
  minorNumber: number | null;
  memoryTotalMiB: number | null;
  memoryReservedMiB: number | null;
  memoryUsedMiB: number | null;
  migMode: string | null;
  computeMode: string | null;
  persistenceMode: string | null;
  temperatureC: number | null;
  memoryTemperatureC: number | null;
  powerDrawW: number | null;
  powerLimitW: number | null;
  maxPowerLimitW: number | null;
  processes: GpuComputeApp[];
}

export interface SmiXml {
  driverVersion: string | null;
  cudaVersion: string | null;
  gpus: SmiXmlGpu[];
}

/** `nvidia-smi -q -x`: architecture, CUDA version, MIG mode, reserved memory and processes, which the CSV lacks. */
export function parseNvidiaSmiXml(text: string): SmiXml {
  const log = xmlFind(parseXml(text), 'nvidia_smi_log');
  const gpus = (log?.children ?? []).filter((c) => c.name === 'gpu');
  return {
    driverVersion: xmlText(log, 'driver_version'),
    cudaVersion: xmlText(log, 'cuda_version'),
    gpus: gpus.map((g) => {
      const uuid = xmlText(g, 'uuid');
      const processes = (xmlFind(g, 'processes')?.children ?? [])
        .filter((p) => p.name === 'process_info')
        .map((p) => ({
          pid: xmlNumber(p, 'pid') ?? -1,
          processName: xmlText(p, 'process_name') ?? '',
          gpuUuid: uuid,
          usedMemoryMiB: xmlNumber(p, 'used_memory'),
        }))
        .filter((p) => p.pid >= 0);
      return {
        pciBusId: g.attrs.id ?? xmlText(g, 'pci/pci_bus_id') ?? '',
        productName: xmlText(g, 'product_name'),
        architecture: xmlText(g, 'product_architecture'),
        uuid,
        minorNumber: xmlNumber(g, 'minor_number'),
        memoryTotalMiB: xmlNumber(g, 'fb_memory_usage/total'),
        memoryReservedMiB: xmlNumber(g, 'fb_memory_usage/reserved'),
        memoryUsedMiB: xmlNumber(g, 'fb_memory_usage/used'),
        migMode: xmlText(g, 'mig_mode/current_mig'),
        computeMode: xmlText(g, 'compute_mode'),
        persistenceMode: xmlText(g, 'persistence_mode'),
        temperatureC: xmlNumber(g, 'temperature/gpu_temp'),
        memoryTemperatureC: xmlNumber(g, 'temperature/memory_temp'),
        powerDrawW:
          xmlNumber(g, 'gpu_power_readings/instant_power_draw') ??
          xmlNumber(g, 'gpu_power_readings/average_power_draw'),
        powerLimitW: xmlNumber(g, 'gpu_power_readings/current_power_limit'),
        maxPowerLimitW: xmlNumber(g, 'gpu_power_readings/max_power_limit'),
        processes,
      };
    }),
  };
}
