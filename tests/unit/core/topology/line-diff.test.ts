import { describe, expect, it } from 'vitest';

import { diffLines, splitLines, unifiedDiff } from '../../../../electron/core/topology/line-diff';
import { diffTopologyFiles } from '../../../../electron/core/topology/topology-diff';

/** Applies a unified diff to `a` (strictly: context and deleted lines must match). */
function applyPatch(a: string, patch: string): string {
  const src = splitLines(a);
  const out: string[] = [];
  let i = 0;
  const lines = splitLines(patch).slice(2);
  let k = 0;
  while (k < lines.length) {
    const m = /^@@ -(\d+),(\d+) \+(\d+),(\d+) @@$/.exec(lines[k]!);
    if (!m) throw new Error(`bad hunk header ${lines[k]}`);
    const aStart = Number(m[2]) === 0 ? Number(m[1]) : Number(m[1]) - 1;
    while (i < aStart) out.push(src[i++]!);
    k++;
    while (k < lines.length && !lines[k]!.startsWith('@@')) {
      const l = lines[k++]!;
      if (l.startsWith('+')) out.push(l.slice(1));
      else {
        if (src[i] !== l.slice(1)) throw new Error(`context mismatch at ${i}: ${src[i]} vs ${l}`);
        if (l.startsWith(' ')) out.push(src[i]!);
        i++;
      }
    }
  }
  while (i < src.length) out.push(src[i++]!);
  return out.map((l) => l + '\n').join('');
}

describe('line diff', () => {
  it('writes a unified diff with three context lines', () => {
    const a = 'a\nb\nc\nd\ne\nf\ng\nh\n';
    const b = 'a\nb\nc\nd\nE\nf\ng\nh\ni\n';
    expect(unifiedDiff(a, b, { aName: 'a/x.yaml', bName: 'b/x.yaml' })).toBe(
      [
        '--- a/x.yaml',
        '+++ b/x.yaml',
        '@@ -2,7 +2,8 @@',
        ' b',
        ' c',
        ' d',
        '-e',
        '+E',
        ' f',
        ' g',
        ' h',
        '+i',
        '',
      ].join('\n'),
    );
  });

  it.each([
    ['', 'x\n', '@@ -0,0 +1,1 @@'],
    ['x\n', '', '@@ -1,1 +0,0 @@'],
  ])('uses GNU ranges for empty sides (%j -> %j)', (a, b, header) => {
    expect(unifiedDiff(a, b, { aName: 'a', bName: 'b' }).split('\n')[2]).toBe(header);
  });

  it('is empty for equal texts', () => {
    expect(unifiedDiff('a\nb\n', 'a\nb\n', { aName: 'a', bName: 'b' })).toBe('');
  });

  it('gives a minimal script that the patch reproduces, on random inputs', () => {
    let seed = 7;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    for (let t = 0; t < 200; t++) {
      const make = (): string[] =>
        Array.from({ length: Math.floor(rnd() * 25) }, () => 'abcd'[Math.floor(rnd() * 4)]!);
      const a = make();
      const b = make();
      const at = a.map((x) => x + '\n').join('');
      const bt = b.map((x) => x + '\n').join('');
      expect(
        applyPatch(at, unifiedDiff(at, bt, { aName: 'a', bName: 'b' }) || '--- a\n+++ b\n'),
      ).toBe(bt);
      // Minimal: kept lines = LCS length.
      const lcs = Array.from({ length: a.length + 1 }, () =>
        new Array<number>(b.length + 1).fill(0),
      );
      for (let i = a.length - 1; i >= 0; i--) {
        for (let j = b.length - 1; j >= 0; j--) {
          lcs[i]![j] =
            a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
        }
      }
      expect(diffLines(a, b).filter((l) => l.kind === 'same').length).toBe(lcs[0]![0]);
    }
  });

  it('diffs topologies per file with added, removed, changed and unchanged files', () => {
    const d = diffTopologyFiles(
      { 'console.yaml': 'a\n', 'gen.yaml': 'x\n', 'old.yaml': 'o\n' },
      { 'console.yaml': 'b\n', 'gen.yaml': 'x\n', 'new.yaml': 'n\n' },
      { from: 'v1', to: 'v2' },
    );
    expect(d).toEqual([
      {
        file: 'console.yaml',
        status: 'changed',
        unified: '--- v1/console.yaml\n+++ v2/console.yaml\n@@ -1,1 +1,1 @@\n-a\n+b\n',
      },
      { file: 'gen.yaml', status: 'unchanged', unified: '' },
      {
        file: 'new.yaml',
        status: 'added',
        unified: '--- /dev/null\n+++ v2/new.yaml\n@@ -0,0 +1,1 @@\n+n\n',
      },
      {
        file: 'old.yaml',
        status: 'removed',
        unified: '--- v1/old.yaml\n+++ /dev/null\n@@ -1,1 +0,0 @@\n-o\n',
      },
    ]);
  });
});
