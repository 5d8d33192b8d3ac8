// Parses YAML text into a `yaml` Document and maps field paths back to 1-based line/column positions, so
// every config problem can be reported as `file:line:column path: message`. Layer: shared (pure).
//
// Upstream reads every file with PyYAML's `yaml.safe_load`, which implements YAML 1.1 (`yes`/`no`/`on`/`off`
// are booleans, `0755` is octal), so the documents are parsed with the `yaml` package's 1.1 schema.

import type { Document, Node, Pair } from 'yaml';
import { isAlias, isMap, isPair, isScalar, isSeq, type LineCounter } from 'yaml';

import type { ConfigIssue } from './config-issues';
import { parseYamlGuarded, yamlValue } from './yaml-guard';

/** A field path inside a document: mapping keys and sequence indexes, e.g. `['context_servers', 'urls', 1]`. */
export type ConfigPath = readonly (string | number)[];

/** A 1-based position in a file. */
export interface SourcePosition {
  line: number;
  column: number;
}

/** The parse options every config file uses (PyYAML compatibility, see the header). */
export const YAML_PARSE_OPTIONS = {
  version: '1.1',
  prettyErrors: false,
  uniqueKeys: true,
} as const;

export interface ParsedYaml {
  document: Document;
  lineCounter: LineCounter;
  /** Syntax errors and YAML warnings, located. Duplicate keys are errors. */
  issues: ConfigIssue[];
}

/** `context_servers.urls[1]`: dotted keys, `[i]` for sequence items; '' for the whole file. */
export function formatPath(path: ConfigPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

/** The text each parsed Document came from (kept current by the writer), for positions and exact round trips. */
const sources = new WeakMap<Document, { text: string; lineCounter: LineCounter }>();

/** The source text and line index of a Document made by `parseYaml` (or edited by config-write). */
export function documentSource(
  document: Document,
): { text: string; lineCounter: LineCounter } | undefined {
  return sources.get(document);
}

/** Records `text` as the source of `document` (used by the writer after an edit). */
export function setDocumentSource(
  document: Document,
  text: string,
  lineCounter: LineCounter,
): void {
  sources.set(document, { text, lineCounter });
}

/** Parses `text` through the guarded parser (size, alias and depth limits) and reports problems as located issues. */
export function parseYaml(text: string, file: string): ParsedYaml {
  const parsed = parseYamlGuarded(text, file, { version: YAML_PARSE_OPTIONS.version });
  sources.set(parsed.document, { text, lineCounter: parsed.lineCounter });
  return parsed;
}

/**
 * The plain value of a parsed document, or a located error when it cannot be built (an alias expanding past
 * the guard's limit: a "billion laughs" file).
 */
export function documentValue(
  document: Document,
  file: string,
): { ok: true; value: unknown } | { ok: false; issue: ConfigIssue } {
  return yamlValue(document, file);
}

/** What `findPath` found: the node at the path, the pair holding it (when the last step was a key). */
export interface PathLookup {
  found: boolean;
  /** The deepest node reached (the target when found). */
  node: Node | null;
  /** The pair whose value is `node`, when `node` was reached through a mapping key. */
  pair: Pair | null;
  /** How many path segments were matched. */
  depth: number;
}

function resolve(document: Document, node: unknown): Node | null {
  if (isAlias(node)) return (node.resolve(document) as Node | undefined) ?? null;
  return (node as Node | null) ?? null;
}

function keyMatches(key: unknown, seg: string | number): boolean {
  if (isScalar(key)) return String(key.value) === String(seg);
  return String(key) === String(seg);
}

/** Walks `path` from the document root through mappings and sequences. */
export function findPath(document: Document, path: ConfigPath): PathLookup {
  let node = resolve(document, document.contents);
  let pair: Pair | null = null;
  let depth = 0;
  for (const seg of path) {
    if (isMap(node)) {
      const next = node.items.find((p) => keyMatches(p.key, seg));
      if (!next) break;
      pair = next;
      node = resolve(document, next.value);
    } else if (isSeq(node) && typeof seg === 'number') {
      const item: unknown = node.items[seg];
      if (item === undefined) break;
      pair = isPair(item) ? item : null;
      node = resolve(document, isPair(item) ? item.value : item);
    } else {
      break;
    }
    depth += 1;
  }
  return { found: depth === path.length, node, pair, depth };
}

function nodeStart(node: unknown): number | undefined {
  if (isPair(node)) return nodeStart(node.key);
  const range = (node as { range?: [number, number, number] } | null)?.range;
  return range?.[0];
}

/**
 * Where to point for a problem at `path`: the key of the last mapping step (so `key: value` errors show the
 * key's line and column, as `gen.yaml:4:3 kv_cache_config.free_gpu_memory_fraction: ...`), or the item
 * itself for sequence items. A path that does not exist is located at its deepest existing ancestor; the
 * root at 1:1.
 */
export function locatePath(
  document: Document,
  lineCounter: LineCounter,
  path: ConfigPath,
): SourcePosition {
  const look = findPath(document, path);
  if (look.depth === 0) return { line: 1, column: 1 };
  const lastSeg = path[look.depth - 1];
  let offset: number | undefined;
  if (typeof lastSeg === 'string' && look.pair) offset = nodeStart(look.pair.key);
  if (offset === undefined) offset = nodeStart(look.node);
  if (offset === undefined && look.pair) offset = nodeStart(look.pair.key);
  if (offset === undefined) return { line: 1, column: 1 };
  const at = lineCounter.linePos(offset);
  return { line: at.line, column: at.col };
}
