// Building blocks for the config validators: an issue sink that turns field paths into located issues, and
// small type/range checks with plain-words messages, and the frame every file parser shares. Layer: shared (pure).

import type { Document } from 'yaml';

import type { ConfigIssue } from './config-issues';
import { closestKey } from './config-suggest';
import type { ConfigPath, SourcePosition } from './yaml-locate';
import { documentValue, formatPath, locatePath, parseYaml } from './yaml-locate';

/**
 * Result of parsing one file: the typed value (and the Document, for editing) or the errors. A file whose YAML
 * is well-formed but whose settings are invalid still comes with its Document, so an editor can fix it in place.
 */
export type ParseResult<T> =
  | { ok: true; value: T; issues: ConfigIssue[] /* warnings only */; document: Document }
  | { ok: false; issues: ConfigIssue[] /* at least one error */; document?: Document };

/** Collects issues for one file. Paths are relative to the document root. */
export interface IssueSink {
  readonly file: string;
  readonly issues: ConfigIssue[];
  error(path: ConfigPath, message: string, hint?: string): void;
  warn(path: ConfigPath, message: string, hint?: string): void;
}

/** One issue of `file` at `path`, placed at `at` (where the path's key or value stands). */
export function locatedIssue(where: {
  file: string;
  at: SourcePosition;
  path: ConfigPath;
  severity: 'error' | 'warning';
  message: string;
  hint?: string | undefined;
}): ConfigIssue {
  const { file, at, path, severity, message, hint } = where;
  const issue: ConfigIssue = {
    file,
    line: at.line,
    column: at.column,
    path: formatPath(path),
    message,
    severity,
  };
  if (hint) issue.hint = hint;
  return issue;
}

/**
 * An issue sink for `file`. `locate` maps a path to its position; `mapPath` rewrites paths first (used when a
 * value is validated out of context, e.g. the LLM args inside a `disaggregated_mpi_worker` section).
 */
export function createIssueSink(
  file: string,
  locate: (path: ConfigPath) => SourcePosition,
  mapPath: (path: ConfigPath) => ConfigPath = (p) => p,
): IssueSink {
  const issues: ConfigIssue[] = [];
  const add = (
    severity: 'error' | 'warning',
    path: ConfigPath,
    message: string,
    hint?: string,
  ): void => {
    const real = mapPath(path);
    issues.push(locatedIssue({ file, at: locate(real), path: real, severity, message, hint }));
  };
  return {
    file,
    issues,
    error: (path, message, hint) => add('error', path, message, hint),
    warn: (path, message, hint) => add('warning', path, message, hint),
  };
}

export function hasErrors(issues: readonly ConfigIssue[]): boolean {
  return issues.some((i) => i.severity === 'error');
}

/** Sorts issues by position so they read top to bottom. */
export function sortIssues(issues: ConfigIssue[]): ConfigIssue[] {
  return issues.sort((a, b) => a.line - b.line || a.column - b.column);
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** How a value is shown after "got": strings quoted, collections by kind. */
export function describeValue(v: unknown): string {
  if (v === null || v === undefined) return 'null (empty)';
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return typeof v;
}

/** Deep equality of parsed YAML values (plain data only), as Python's `==` on dicts and lists. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}

export interface IntRange {
  min?: number;
  max?: number;
}

function rangeWords(range: IntRange): string {
  if (range.min !== undefined && range.max !== undefined) {
    return `must be between ${range.min} and ${range.max}`;
  }
  if (range.min !== undefined) {
    return range.min === 1 ? 'must be at least 1' : `must be at least ${range.min}`;
  }
  return `must be at most ${String(range.max)}`;
}

/** An integer within `range`; float values with no fraction count as integers (pydantic's lax mode). */
export function checkInt(
  sink: IssueSink,
  path: ConfigPath,
  v: unknown,
  range: IntRange = {},
): number | undefined {
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    sink.error(path, `must be an integer, got ${describeValue(v)}`);
    return undefined;
  }
  if ((range.min !== undefined && v < range.min) || (range.max !== undefined && v > range.max)) {
    sink.error(path, `${rangeWords(range)}, got ${v}`);
    return undefined;
  }
  return v;
}

export interface NumberRange {
  min?: number;
  max?: number;
  /** The minimum itself is not allowed (`> min`). */
  exclusiveMin?: boolean;
}

export function checkNumber(
  sink: IssueSink,
  path: ConfigPath,
  v: unknown,
  range: NumberRange = {},
): number | undefined {
  if (typeof v !== 'number' || Number.isNaN(v)) {
    sink.error(path, `must be a number, got ${describeValue(v)}`);
    return undefined;
  }
  const { min, max, exclusiveMin } = range;
  const tooLow = min !== undefined && (exclusiveMin ? v <= min : v < min);
  const tooHigh = max !== undefined && v > max;
  if (tooLow || tooHigh) {
    let words: string;
    if (min !== undefined && max !== undefined) words = `must be between ${min} and ${max}`;
    else if (min !== undefined) {
      words = exclusiveMin ? `must be greater than ${min}` : `must be at least ${min}`;
    } else words = `must be at most ${String(max)}`;
    sink.error(path, `${words}, got ${v}`);
    return undefined;
  }
  return v;
}

export function checkBool(sink: IssueSink, path: ConfigPath, v: unknown): boolean | undefined {
  if (typeof v !== 'boolean') {
    sink.error(path, `must be true or false, got ${describeValue(v)}`);
    return undefined;
  }
  return v;
}

export function checkString(
  sink: IssueSink,
  path: ConfigPath,
  v: unknown,
  opts: { nonEmpty?: boolean } = {},
): string | undefined {
  if (typeof v !== 'string') {
    sink.error(path, `must be a string, got ${describeValue(v)}`);
    return undefined;
  }
  if (opts.nonEmpty && v.trim() === '') {
    sink.error(path, 'must not be empty');
    return undefined;
  }
  return v;
}

/** One of `allowed` (exact spelling). */
export function checkEnum<T extends string>(
  sink: IssueSink,
  path: ConfigPath,
  v: unknown,
  allowed: readonly T[],
): T | undefined {
  if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return v as T;
  sink.error(path, `must be one of ${allowed.join(', ')}, got ${describeValue(v)}`);
  return undefined;
}

/** A mapping; `null`/absent is reported unless `allowNull`, in which case it reads as empty. */
export function checkMapping(
  sink: IssueSink,
  path: ConfigPath,
  v: unknown,
  opts: { allowNull?: boolean } = {},
): Record<string, unknown> | undefined {
  if (v === null || v === undefined) {
    if (opts.allowNull) return {};
    sink.error(path, 'must be a mapping of keys to values, got null (empty)');
    return undefined;
  }
  if (!isPlainObject(v)) {
    // PyYAML reads `None` as the string "None"; YAML's null is `null` or `~`.
    const hint = v === 'None' ? 'YAML has no None: write null' : undefined;
    sink.error(path, `must be a mapping of keys to values, got ${describeValue(v)}`, hint);
    return undefined;
  }
  return v;
}

/**
 * Reports every key of `obj` that is not in `known` (an error unless `severity` says warning), with a
 * "did you mean" hint. `why` finishes the sentence "unknown key "x": ..." (what upstream does with it).
 */
export function checkKnownKeys(
  sink: IssueSink,
  path: ConfigPath,
  obj: Record<string, unknown>,
  known: readonly string[],
  why: string,
  severity: 'error' | 'warning' = 'error',
): void {
  const report = severity === 'error' ? sink.error.bind(sink) : sink.warn.bind(sink);
  for (const key of Object.keys(obj)) {
    if (known.includes(key)) continue;
    const guess = closestKey(key, known);
    report(
      [...path, key],
      `unknown key "${key}": ${why}`,
      guess ? `did you mean ${guess}?` : undefined,
    );
  }
}

/**
 * The frame every file parser shares: YAML syntax, an issue sink located in the document, the root value,
 * then `validate`. Syntax and validation issues come back together, sorted; the Document comes with any
 * well-formed file so an editor can fix it in place.
 */
export function parseYamlFile<T>(
  text: string,
  file: string,
  validate: (
    sink: IssueSink,
    root: unknown,
    locate: (path: ConfigPath) => SourcePosition,
  ) => T | undefined,
): ParseResult<T> {
  const parsed = parseYaml(text, file);
  if (hasErrors(parsed.issues)) return { ok: false, issues: sortIssues(parsed.issues) };
  const { document, lineCounter } = parsed;
  const locate = (p: ConfigPath) => locatePath(document, lineCounter, p);
  const sink = createIssueSink(file, locate);
  const root = documentValue(document, file);
  if (!root.ok) return { ok: false, issues: [root.issue] };
  const value = validate(sink, root.value, locate);
  const issues = sortIssues([...parsed.issues, ...sink.issues]);
  if (value === undefined || hasErrors(issues)) return { ok: false, issues, document };
  return { ok: true, value, issues, document };
}
