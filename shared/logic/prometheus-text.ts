// A reader of the Prometheus text exposition format (version 0.0.4: `# HELP`, `# TYPE`, one sample per line
// `name{label="value",...} value [timestamp]`, label values escaped with \\, \" and \n, values as Go floats
// with NaN/+Inf/-Inf). What TensorRT-LLM workers serve on `/prometheus/metrics` (docs/upstream-versions.md
// section 4). No maintained npm parser fits (docs/dependencies.md); this one is held to the format by its unit
// tests and to prom-client's output by tests/unit/shared/logic/prometheus-text-differential.test.ts.
// Layer: shared (pure).

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromText {
  samples: PromSample[];
  /** `# TYPE` per metric family name. */
  types: Record<string, string>;
}

export class PromParseError extends Error {}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

/** Values Go's strconv.ParseFloat (Prometheus' reader) accepts in any case: prom-client writes `Nan`. */
const SPECIAL_VALUES: Readonly<Record<string, number>> = {
  nan: Number.NaN,
  inf: Number.POSITIVE_INFINITY,
  '+inf': Number.POSITIVE_INFINITY,
  infinity: Number.POSITIVE_INFINITY,
  '+infinity': Number.POSITIVE_INFINITY,
  '-inf': Number.NEGATIVE_INFINITY,
  '-infinity': Number.NEGATIVE_INFINITY,
};

function parseValue(text: string, line: number): number {
  const special = SPECIAL_VALUES[text.toLowerCase()];
  if (special !== undefined) return special;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) {
    throw new PromParseError(`line ${line}: invalid sample value ${JSON.stringify(text)}`);
  }
  return Number(text);
}

/** The labels between `{` at `pos` and its `}`; returns them and the index after `}`. */
function parseLabels(
  text: string,
  pos: number,
  line: number,
): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let p = pos + 1;
  for (;;) {
    while (text[p] === ' ' || text[p] === ',') p++;
    if (text[p] === '}') return { labels, end: p + 1 };
    const m = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(p));
    if (!m) throw new PromParseError(`line ${line}: invalid label name at column ${p + 1}`);
    const name = m[0];
    p += name.length;
    if (text[p] !== '=' || text[p + 1] !== '"') {
      throw new PromParseError(`line ${line}: expected ="..." after label ${name}`);
    }
    p += 2;
    let value = '';
    for (;;) {
      const c = text[p];
      if (c === undefined) {
        throw new PromParseError(`line ${line}: unterminated value of label ${name}`);
      }
      if (c === '"') break;
      if (c === '\\') {
        const next = text[p + 1];
        value +=
          next === 'n' ? '\n' : next === '"' ? '"' : next === '\\' ? '\\' : `\\${next ?? ''}`;
        p += 2;
        continue;
      }
      value += c;
      p++;
    }
    labels[name] = value;
    p++;
  }
}

/** Parses a whole exposition; throws PromParseError naming the line of the first malformed sample. */
export function parsePrometheusText(text: string): PromText {
  const samples: PromSample[] = [];
  const types: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] ?? '').trim();
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s*TYPE\s+(\S+)\s+(\S+)/.exec(line);
      if (m) types[m[1] as string] = m[2] as string;
      continue;
    }
    const nameMatch = NAME.exec(line);
    if (!nameMatch) throw new PromParseError(`line ${i + 1}: invalid metric name`);
    const name = nameMatch[0];
    let p = name.length;
    let labels: Record<string, string> = {};
    if (line[p] === '{') {
      const parsed = parseLabels(line, p, i + 1);
      labels = parsed.labels;
      p = parsed.end;
    }
    const rest = line.slice(p).trim().split(/\s+/);
    if (rest[0] === undefined || rest[0] === '' || rest.length > 2) {
      throw new PromParseError(`line ${i + 1}: expected a value and an optional timestamp`);
    }
    samples.push({ name, labels, value: parseValue(rest[0], i + 1) });
  }
  return { samples, types };
}

/** The value of the first sample named `name` (any labels), or null. */
export function sampleValue(text: PromText, name: string): number | null {
  const s = text.samples.find((x) => x.name === name);
  return s === undefined ? null : s.value;
}
