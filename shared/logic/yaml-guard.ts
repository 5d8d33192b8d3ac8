// The one guarded way the console reads YAML text (console.yaml, the upstream files, worker options, imports,
// the proxy command's `-c`/`-m`, the simulated worker's options file, the editor's text). A YAML file is
// user input: before and while it is parsed, its size, its alias count, its nesting depth and the size its
// aliases expand to are bounded, and every refusal or syntax problem becomes a located ConfigIssue, never a
// throw (an alias bomb used to escape as an INTERNAL error, issue #15 item 5). Layer: shared (pure).

import { type Document, isAlias, isMap, isPair, isSeq, LineCounter, parseDocument } from 'yaml';

import type { ConfigIssue } from './config-issues';

/** The bounds every YAML text is held to. */
export interface YamlLimits {
  /** Longest accepted text, in characters (UTF-16 code units). */
  maxChars: number;
  /** Most alias nodes (`*name`) in one document. */
  maxAliases: number;
  /** Deepest nesting of mappings and sequences. */
  maxDepth: number;
  /** The `yaml` package's bound on alias expansion while building values (its "billion laughs" guard). */
  maxAliasExpansion: number;
}

/**
 * Generous for real configs (a worker options file is a few KB, a disagg_config with hundreds of urls tens of
 * KB, nesting rarely passes 6 levels) and small enough that parsing a refused file costs little.
 */
export const DEFAULT_YAML_LIMITS: YamlLimits = {
  maxChars: 2 * 1024 * 1024,
  maxAliases: 100,
  maxDepth: 64,
  maxAliasExpansion: 100,
};

/** Options of parseYamlGuarded. */
export interface GuardedYamlOptions {
  /** '1.1' for files PyYAML reads upstream (`yes` is a boolean), '1.2' for the console's own console.yaml. */
  version: '1.1' | '1.2';
  limits?: Partial<YamlLimits>;
}

/** A parsed document (empty when the text was refused before parsing) and every problem, located. */
export interface GuardedYaml {
  document: Document;
  lineCounter: LineCounter;
  /** Syntax errors, limit violations (errors; duplicate keys too) and YAML warnings. */
  issues: ConfigIssue[];
}

function limitsOf(partial: Partial<YamlLimits> | undefined): YamlLimits {
  return { ...DEFAULT_YAML_LIMITS, ...partial };
}

function issueAt(
  file: string,
  at: { line: number; col: number },
  message: string,
  severity: 'error' | 'warning' = 'error',
): ConfigIssue {
  return { file, line: at.line, column: at.col, path: '', message, severity };
}

/** Parses `text` within the limits; never throws. */
export function parseYamlGuarded(
  text: string,
  file: string,
  options: GuardedYamlOptions,
): GuardedYaml {
  const limits = limitsOf(options.limits);
  const lineCounter = new LineCounter();
  const parseOptions = {
    version: options.version,
    uniqueKeys: true,
    prettyErrors: false,
    lineCounter,
  } as const;
  if (text.length > limits.maxChars) {
    return {
      document: parseDocument('', parseOptions),
      lineCounter,
      issues: [
        issueAt(
          file,
          { line: 1, col: 1 },
          `file is too large: ${text.length} characters, at most ${limits.maxChars} are accepted`,
        ),
      ],
    };
  }
  const document = parseDocument(text, parseOptions);
  const issues: ConfigIssue[] = [];
  for (const e of document.errors) {
    issues.push(syntaxIssue(text, file, lineCounter, e.pos[0], e.code, e.message, 'error'));
  }
  for (const w of document.warnings) {
    issues.push(syntaxIssue(text, file, lineCounter, w.pos[0], w.code, w.message, 'warning'));
  }
  issues.push(...shapeIssues(document, file, lineCounter, limits));
  return { document, lineCounter, issues };
}

function syntaxIssue(
  text: string,
  file: string,
  lineCounter: LineCounter,
  offset: number | undefined,
  code: string,
  message: string,
  severity: 'error' | 'warning',
): ConfigIssue {
  const at = lineCounter.linePos(offset ?? 0);
  if (code === 'DUPLICATE_KEY') {
    const key = keyTextAt(text, offset ?? 0);
    return issueAt(
      file,
      at,
      `duplicate key${key ? ` "${key}"` : ''}: each key may appear only once in a mapping`,
      severity,
    );
  }
  if (code === 'RESOURCE_EXHAUSTION') {
    return issueAt(file, at, 'YAML: nesting too deep to read', severity);
  }
  return issueAt(file, at, `YAML syntax: ${lowerFirst(message.split('\n')[0] ?? '')}`, severity);
}

/** The key text starting at `offset` (up to the `:`), for duplicate-key messages. */
function keyTextAt(text: string, offset: number): string {
  const rest = text.slice(offset, offset + 200);
  const m = /^(?:"([^"]*)"|'([^']*)'|([^:\n#]*?))\s*:/.exec(rest);
  if (!m) return '';
  return (m[1] ?? m[2] ?? m[3] ?? '').trim();
}

function lowerFirst(s: string): string {
  return s.length > 0 ? s[0]!.toLowerCase() + s.slice(1) : s;
}

function startOf(node: unknown): number {
  return (node as { range?: [number, number, number] } | null)?.range?.[0] ?? 0;
}

/**
 * Alias count and nesting depth of the parsed tree, walked without recursion (a hostile depth must not
 * overflow the stack here either). Reports the first alias past the limit and the first too-deep node.
 */
function shapeIssues(
  document: Document,
  file: string,
  lineCounter: LineCounter,
  limits: YamlLimits,
): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  let aliases = 0;
  let isDepthReported = false;
  const stack: { node: unknown; depth: number }[] = [{ node: document.contents, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (isAlias(node)) {
      aliases += 1;
      if (aliases === limits.maxAliases + 1) {
        issues.push(
          issueAt(
            file,
            lineCounter.linePos(startOf(node)),
            `too many aliases: more than ${limits.maxAliases} (*name) references in one file`,
          ),
        );
      }
      continue;
    }
    if (!isMap(node) && !isSeq(node)) continue;
    if (depth >= limits.maxDepth) {
      if (!isDepthReported) {
        issues.push(
          issueAt(
            file,
            lineCounter.linePos(startOf(node)),
            `nesting too deep: more than ${limits.maxDepth} levels of mappings and lists`,
          ),
        );
      }
      isDepthReported = true;
      continue;
    }
    // Pushed last-first, so nodes are visited in document order and the first offender is the one reported.
    const items = node.items as unknown[];
    for (let i = items.length - 1; i >= 0; i--) {
      const item = items[i];
      if (isPair(item)) {
        stack.push({ node: item.value, depth: depth + 1 }, { node: item.key, depth: depth + 1 });
      } else stack.push({ node: item, depth: depth + 1 });
    }
  }
  return issues;
}

/**
 * The plain value of a document, or a located error when it cannot be built: an alias expanding past
 * `maxAliasExpansion` (the `yaml` package throws a ReferenceError for "billion laughs" files) or any other
 * failure of the conversion.
 */
export function yamlValue(
  document: Document,
  file: string,
  limits?: Partial<YamlLimits>,
): { ok: true; value: unknown } | { ok: false; issue: ConfigIssue } {
  try {
    return {
      ok: true,
      value: document.toJS({ maxAliasCount: limitsOf(limits).maxAliasExpansion }) as unknown,
    };
  } catch (e) {
    const why = e instanceof Error ? e.message : 'cannot be read';
    const message = /alias count/i.test(why)
      ? 'aliases expand too far (a YAML "billion laughs" file is refused)'
      : lowerFirst(why);
    return { ok: false, issue: issueAt(file, { line: 1, col: 1 }, `YAML: ${message}`) };
  }
}

/** Parses `text` and builds its value in one step: the value, or every problem as located issues. */
export function readYamlValue(
  text: string,
  file: string,
  options: GuardedYamlOptions,
): { ok: true; value: unknown; issues: ConfigIssue[] } | { ok: false; issues: ConfigIssue[] } {
  const parsed = parseYamlGuarded(text, file, options);
  if (parsed.issues.some((i) => i.severity === 'error')) {
    return { ok: false, issues: parsed.issues };
  }
  const value = yamlValue(parsed.document, file, options.limits);
  return value.ok
    ? { ok: true, value: value.value, issues: parsed.issues }
    : { ok: false, issues: [...parsed.issues, value.issue] };
}
