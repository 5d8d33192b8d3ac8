// The one argument parser of every subcommand: a flag table per command, read by node:util's
// parseArgs (GNU-style `--flag value`, `--flag=value`, `-f value`, `--` ends flags), with what
// parseArgs leaves out: several spellings per flag (upstream's names and ours), flags taking one or
// more values (argparse's nargs='+': `--goodput ttft:100 tpot:20`), an unknown flag answered with the
// nearest known one, one-line errors for bad values, and `--help` generated from the same table.
// Layer: core (plain Node), so both electron/cli and electron/sim read their flags through it.
import { parseArgs } from 'node:util';

/** One flag: every spelling, what it takes, and its line in --help. */
export interface FlagSpec<K extends string = string> {
  key: K;
  /** Every accepted spelling, e.g. ['-c', '--config_file']; the first long one names it in errors. */
  names: readonly string[];
  /** 'value': one value; 'list': one or more (the following non-flag words); 'switch': none. */
  takes: 'value' | 'list' | 'switch';
  /** What the value is called in --help (default: VALUE). */
  metavar?: string;
  help: string;
}

export interface CommandSpec<K extends string = string> {
  /** First line of --help, e.g. 'Usage: disagg-console proxy -c disagg_config.yaml [options]'. */
  usage: string;
  description?: string;
  groups: readonly { title: string; flags: readonly FlagSpec<K>[] }[];
  /** Free text after the flag list. */
  epilog?: string;
  /** Whether words that are not flags or flag values are accepted (e.g. the sim worker's MODEL). */
  allowPositionals?: boolean;
}

export type FlagValue = string | true | string[];

/** What was wrong, for a command that words its errors its own way (the sim worker speaks click's). */
export type FlagIssue =
  | { kind: 'unknown'; flag: string; nearest: string | undefined }
  | { kind: 'missing-value'; flag: string; isList: boolean }
  | { kind: 'unexpected-value'; flag: string }
  | { kind: 'unexpected-argument'; value: string };

export type ParsedFlags<K extends string> =
  | { ok: true; isHelp: boolean; values: Partial<Record<K, FlagValue>>; positionals: string[] }
  | { ok: false; message: string; issue: FlagIssue };

/** A bad command line: the message is one line, naming the flag and the value. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

const HELP_FLAG: FlagSpec<never> = {
  key: undefined as never,
  names: ['-h', '--help'],
  takes: 'switch',
  help: 'show this help and exit',
};

function allFlags<K extends string>(spec: CommandSpec<K>): FlagSpec<K>[] {
  return spec.groups.flatMap((g) => g.flags);
}

/** The name a flag goes by in messages: its first long spelling. */
export function flagName(flag: FlagSpec): string {
  return flag.names.find((n) => n.startsWith('--')) ?? (flag.names[0] as string);
}

/**
 * Parses `argv` against the command's flag table. The last of repeated single-value flags wins; list
 * flags collect every value. Never throws: errors come back as one line.
 */
export function parseFlags<K extends string>(
  spec: CommandSpec<K>,
  argv: readonly string[],
): ParsedFlags<K> {
  const flags = allFlags(spec);
  const byName = new Map<string, FlagSpec<K>>();
  const options: Record<
    string,
    { type: 'string' | 'boolean'; short?: string; multiple?: boolean }
  > = {};
  for (const flag of [...flags, HELP_FLAG as FlagSpec<K>]) {
    const long = flag.names.filter((n) => n.startsWith('--'));
    const short = flag.names.filter((n) => /^-[^-]$/.test(n));
    for (const n of flag.names) byName.set(n.startsWith('--') ? n.slice(2) : n.slice(1), flag);
    const type = flag.takes === 'switch' ? 'boolean' : 'string';
    for (const n of long) options[n.slice(2)] = { type };
    // parseArgs ties a short name to a long one; a short-only flag is its own option.
    for (const s of short) {
      const first = long[0];
      if (first !== undefined && options[first.slice(2)]?.short === undefined) {
        (options[first.slice(2)] as { short?: string }).short = s.slice(1);
      } else options[s.slice(1)] = { type };
    }
  }
  // strict: false so an unknown flag reaches us (for the suggestion) instead of a generic throw; with
  // strict off and positionals allowed, parseArgs does not throw.
  const { tokens } = parseArgs({
    args: [...argv],
    options,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const fail = (issue: FlagIssue): ParsedFlags<K> => ({
    ok: false,
    message: issueMessage(issue),
    issue,
  });
  const values: Partial<Record<K, FlagValue>> = {};
  const positionals: string[] = [];
  let isHelp = false;
  let openList: FlagSpec<K> | undefined;
  for (const token of tokens) {
    if (token.kind === 'option-terminator') {
      openList = undefined;
      continue;
    }
    if (token.kind === 'positional') {
      if (openList !== undefined) (values[openList.key] as string[]).push(token.value);
      else positionals.push(token.value);
      continue;
    }
    const flag = byName.get(token.name);
    if (flag === undefined) {
      return fail({
        kind: 'unknown',
        flag: token.rawName,
        nearest: nearestName(token.rawName, flags.flatMap((f) => f.names).concat(HELP_FLAG.names)),
      });
    }
    openList = undefined;
    if (flag === (HELP_FLAG as FlagSpec<K>)) {
      isHelp = true;
      continue;
    }
    if (flag.takes === 'switch') {
      if (token.inlineValue === true) {
        return fail({ kind: 'unexpected-value', flag: token.rawName });
      }
      values[flag.key] = true;
      continue;
    }
    if (token.value === undefined) {
      return fail({ kind: 'missing-value', flag: token.rawName, isList: flag.takes === 'list' });
    }
    if (flag.takes === 'value') {
      values[flag.key] = token.value;
      continue;
    }
    const list = (values[flag.key] as string[] | undefined) ?? [];
    list.push(token.value);
    values[flag.key] = list;
    // `--flag=a b`: only the inline value belongs to it, as with argparse.
    if (token.inlineValue !== true) openList = flag;
  }
  if (!isHelp && positionals.length > 0 && spec.allowPositionals !== true) {
    return fail({ kind: 'unexpected-argument', value: positionals[0] as string });
  }
  return { ok: true, isHelp, values, positionals };
}

/** One line: "unknown flag --max-concurency; did you mean --max-concurrency?", "-c needs a value". */
function issueMessage(issue: FlagIssue): string {
  switch (issue.kind) {
    case 'unknown':
      return `unknown flag ${issue.flag}${issue.nearest === undefined ? '' : `; did you mean ${issue.nearest}?`}`;
    case 'missing-value':
      return `${issue.flag} needs ${issue.isList ? 'at least one value' : 'a value'}`;
    case 'unexpected-value':
      return `${issue.flag} takes no value`;
    case 'unexpected-argument':
      return `unexpected argument '${issue.value}'`;
  }
}

/**
 * The known name closest to `typed` by edit distance (dashes and underscores count alike, so
 * `--max_concurrency` finds `--max-concurrency`; a swap of two neighbours is one edit), when close
 * enough to be a typo: at most a third of its length (so a one-letter short flag gets no guess).
 */
export function nearestName(typed: string, names: readonly string[]): string | undefined {
  const norm = (s: string): string => s.replace(/^-+/, '').replace(/_/g, '-').toLowerCase();
  const t = norm(typed.split('=')[0] as string);
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of names) {
    const d = editDistance(t, norm(name));
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return best !== undefined && bestDistance <= Math.floor(t.length / 3) ? best : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions and adjacent swaps. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const row = d[i] as number[];
      const up = d[i - 1] as number[];
      row[j] = Math.min(
        (up[j] as number) + 1,
        (row[j - 1] as number) + 1,
        (up[j - 1] as number) + cost,
      );
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        row[j] = Math.min(row[j] as number, ((d[i - 2] as number[])[j - 2] as number) + 1);
      }
    }
  }
  return (d[a.length] as number[])[b.length] as number;
}

/** The --help text: usage, description, then each group's flags with their help, aligned. */
export function formatHelp(spec: CommandSpec): string {
  const lines = [spec.usage, ''];
  if (spec.description) lines.push(spec.description, '');
  const label = (f: FlagSpec): string => {
    const shorts = f.names.filter((n) => !n.startsWith('--'));
    const longs = f.names.filter((n) => n.startsWith('--'));
    const names =
      shorts.length > 0 ? `${shorts.join(', ')}, ${longs.join(', ')}` : `    ${longs.join(', ')}`;
    return f.takes === 'switch'
      ? names
      : `${names} ${f.metavar ?? 'VALUE'}${f.takes === 'list' ? ' ...' : ''}`;
  };
  const groups = [...spec.groups, { title: '', flags: [HELP_FLAG] }];
  const width =
    Math.min(40, Math.max(...groups.flatMap((g) => g.flags.map((f) => label(f).length)))) + 2;
  for (const group of groups) {
    if (group.title) lines.push(`${group.title}:`);
    for (const f of group.flags) {
      const l = label(f);
      const helpLines = f.help.split('\n');
      if (l.length + 2 > width) {
        lines.push(`  ${l}`, ...helpLines.map((h) => `  ${' '.repeat(width)}${h}`));
      } else {
        lines.push(
          `  ${l.padEnd(width)}${helpLines[0] as string}`,
          ...helpLines.slice(1).map((h) => `  ${' '.repeat(width)}${h}`),
        );
      }
    }
    lines.push('');
  }
  if (spec.epilog) lines.push(spec.epilog, '');
  return lines.join('\n');
}

/**
 * A bad command line as the one line every subcommand prints (exit 2):
 * "disagg-console proxy: unknown flag --prot; did you mean --port? (disagg-console proxy --help lists the flags)".
 */
export function usageErrorLine(command: string, message: string): string {
  return `disagg-console ${command}: ${message} (disagg-console ${command} --help lists the flags)\n`;
}

// ---- values: one-line errors naming the flag and what it got ----

/** A number, with `inf` when allowed; throws CliError "FLAG expects ..., got 'RAW'". */
export function numberFlag(
  flag: string,
  raw: string,
  rule: { min: number; isInteger?: boolean; allowInf?: boolean; max?: number },
): number {
  const text = raw.trim();
  const n = rule.allowInf === true && text === 'inf' ? Infinity : text === '' ? NaN : Number(text);
  const isOk =
    !Number.isNaN(n) &&
    n >= rule.min &&
    (rule.max === undefined || n <= rule.max) &&
    (rule.isInteger !== true || Number.isInteger(n));
  if (!isOk) {
    const what = rule.isInteger === true ? 'an integer' : 'a number';
    const range = rule.max === undefined ? `>= ${rule.min}` : `from ${rule.min} to ${rule.max}`;
    throw new CliError(`${flag} expects ${what} ${range}, got '${raw}'`);
  }
  return n;
}

/** One of `choices`; throws CliError naming them. */
export function choiceFlag<T extends string>(flag: string, raw: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(raw)) return raw as T;
  throw new CliError(`${flag} must be one of ${choices.join(', ')}, got '${raw}'`);
}

/** A TCP port; 0 (a free port) only when allowed. */
export function portFlag(flag: string, raw: string, allowZero: boolean): number {
  return numberFlag(flag, raw, { min: allowZero ? 0 : 1, max: 65535, isInteger: true });
}
