// A small line diff (Myers' O((N+M)D) algorithm) and unified-diff output with context lines, so
// topology:diff needs no dependency. Layer: core (pure code, no I/O).

/** One line of an edit script. */
export interface DiffLine {
  kind: 'same' | 'del' | 'add';
  text: string;
}

/** Splits text into lines; a final newline does not make an extra empty line. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** The shortest edit script turning `a` into `b`, as a sequence of kept, deleted and added lines. */
export function diffLines(a: readonly string[], b: readonly string[]): DiffLine[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const offset = max;
  let v = new Int32Array(2 * max + 2);
  const trace: Int32Array[] = [];
  outer: for (let d = 0; d <= max; d++) {
    trace.push(v.slice());
    const next = v.slice();
    for (let k = -d; k <= d; k += 2) {
      const down = k === -d || (k !== d && (v[offset + k - 1] ?? 0) < (v[offset + k + 1] ?? 0));
      let x = down ? (v[offset + k + 1] ?? 0) : (v[offset + k - 1] ?? 0) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      next[offset + k] = x;
      if (x >= n && y >= m) {
        v = next;
        trace.push(v.slice());
        break outer;
      }
    }
    v = next;
  }
  // Walk the trace backwards to recover the path.
  const out: DiffLine[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 2; d >= 0 && (x > 0 || y > 0); d--) {
    const vd = trace[d]!;
    const k = x - y;
    const down = k === -d || (k !== d && (vd[offset + k - 1] ?? 0) < (vd[offset + k + 1] ?? 0));
    const prevK = down ? k + 1 : k - 1;
    const prevX = vd[offset + prevK] ?? 0;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      out.push({ kind: 'same', text: a[x - 1]! });
      x--;
      y--;
    }
    if (d === 0) break;
    if (down) out.push({ kind: 'add', text: b[prevY]! });
    else out.push({ kind: 'del', text: a[prevX]! });
    x = prevX;
    y = prevY;
  }
  while (x > 0 && y > 0) {
    out.push({ kind: 'same', text: a[x - 1]! });
    x--;
    y--;
  }
  return out.reverse();
}

/** Unified diff of two texts (`--- a/<name>`, `+++ b/<name>`, `@@ -l,n +l,n @@` hunks); '' when equal. */
export function unifiedDiff(
  aText: string,
  bText: string,
  opts: { aName: string; bName: string; context?: number },
): string {
  const a = splitLines(aText);
  const b = splitLines(bText);
  const script = diffLines(a, b);
  if (script.every((l) => l.kind === 'same')) return '';
  const context = opts.context ?? 3;
  // Positions (0-based) of each script entry in a and b.
  const pos: { ai: number; bi: number }[] = [];
  let ai = 0;
  let bi = 0;
  for (const l of script) {
    pos.push({ ai, bi });
    if (l.kind !== 'add') ai++;
    if (l.kind !== 'del') bi++;
  }
  const changed = script.map((l, i) => (l.kind === 'same' ? -1 : i)).filter((i) => i >= 0);
  const hunks: [number, number][] = [];
  for (const i of changed) {
    const start = Math.max(0, i - context);
    const end = Math.min(script.length - 1, i + context);
    const last = hunks[hunks.length - 1];
    if (last && start <= last[1] + 1) last[1] = Math.max(last[1], end);
    else hunks.push([start, end]);
  }
  const lines = [`--- ${opts.aName}`, `+++ ${opts.bName}`];
  for (const [start, end] of hunks) {
    const slice = script.slice(start, end + 1);
    const aCount = slice.filter((l) => l.kind !== 'add').length;
    const bCount = slice.filter((l) => l.kind !== 'del').length;
    const p = pos[start]!;
    // GNU diff prints the line before an empty range as the start (e.g. -0,0).
    const aStart = aCount === 0 ? p.ai : p.ai + 1;
    const bStart = bCount === 0 ? p.bi : p.bi + 1;
    lines.push(`@@ -${aStart},${aCount} +${bStart},${bCount} @@`);
    for (const l of slice) {
      lines.push(`${l.kind === 'same' ? ' ' : l.kind === 'del' ? '-' : '+'}${l.text}`);
    }
  }
  return lines.join('\n') + '\n';
}
