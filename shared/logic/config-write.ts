// Editing and writing the upstream YAML files. Edits change only the bytes of the edited value (comments, key
// order, quoting and blank lines elsewhere stay byte-identical); new files are written from typed values in
// upstream's own spelling (uppercase cache transceiver backend, `inactive_timeout_sec`). Layer: shared (pure).
//
// How edits work: the text a Document was parsed from is the truth. An edit is applied to that text as a small
// splice at the node's source range, the text is parsed again and checked to hold exactly the intended value;
// if the splice cannot be done (unusual layouts) the edit goes through the `yaml` AST and the file is
// re-printed by `yaml`, which still keeps comments and key order.

import type { Node, Pair, YAMLMap, YAMLSeq } from 'yaml';
import {
  Document,
  isCollection,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
} from 'yaml';

import type {
  DisaggConfig,
  MetadataConfig,
  ServerSectionConfig,
  WorkerOptions,
} from '../model/config';
import { deepEqual, isPlainObject } from './config-checks';
import { DISAGG_CLUSTER_DEFAULTS } from './config-cluster';
import type { ConfigPath } from './yaml-locate';
import { documentSource, findPath, setDocumentSource, YAML_PARSE_OPTIONS } from './yaml-locate';

type Range = [number, number, number];

function rangeOf(node: unknown): Range | undefined {
  return (node as { range?: Range } | null)?.range ?? undefined;
}

function parseText(text: string): Document {
  return parseDocument(text, YAML_PARSE_OPTIONS);
}

/** The text behind `document`: its recorded source when still in sync with the AST, else a fresh print. */
export function documentToText(document: Document): string {
  const src = documentSource(document);
  if (src && deepEqual(parseText(src.text).toJS(), document.toJS())) return src.text;
  return document.toString({ lineWidth: 0 });
}

/** Makes `document` hold the parse of `text` (same object, so callers' references stay valid). */
function adopt(document: Document, text: string): void {
  const lineCounter = new LineCounter();
  const fresh = parseDocument(text, { ...YAML_PARSE_OPTIONS, lineCounter });
  document.contents = fresh.contents;
  document.commentBefore = fresh.commentBefore;
  document.comment = fresh.comment;
  document.errors = fresh.errors;
  document.warnings = fresh.warnings;
  document.range = fresh.range;
  setDocumentSource(document, text, lineCounter);
}

// ---------------------------------------------------------------------------------------------------------
// Rendering values as YAML text

function newDoc(): Document {
  return new Document(null, { version: '1.1' });
}

function isScalarValue(v: unknown): boolean {
  return v === null || v === undefined || (typeof v !== 'object' && typeof v !== 'function');
}

function isEmptyCollection(v: unknown): boolean {
  return (Array.isArray(v) && v.length === 0) || (isPlainObject(v) && Object.keys(v).length === 0);
}

type StringStyle = 'QUOTE_DOUBLE' | 'QUOTE_SINGLE' | undefined;

/** One-line YAML for a scalar or a flow collection. Strings keep `style` when it is a quoted one. */
function renderInline(value: unknown, style?: StringStyle): string {
  const doc = newDoc();
  const node = doc.createNode(value ?? null, { flow: true }) as Node;
  if (isScalar(node) && typeof value === 'string') {
    if (style) node.type = style;
    else if (value.includes('\n')) node.type = 'QUOTE_DOUBLE';
  }
  doc.contents = node;
  return doc.toString({ lineWidth: 0 }).trimEnd();
}

/** Block YAML for a non-empty collection, every line indented by `indent` spaces. */
function renderBlock(value: unknown, indent: number): string {
  const doc = newDoc();
  doc.contents = doc.createNode(value);
  const pad = ' '.repeat(indent);
  return doc
    .toString({ lineWidth: 0, indent: 2 })
    .trimEnd()
    .split('\n')
    .map((line) => (line === '' ? line : pad + line))
    .join('\n');
}

function needsBlock(value: unknown): boolean {
  return !isScalarValue(value) && !isEmptyCollection(value);
}

function styleOf(node: unknown): StringStyle {
  if (
    isScalar(node) &&
    typeof node.value === 'string' &&
    (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE')
  ) {
    return node.type;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Text positions

function lineStart(text: string, offset: number): number {
  return text.lastIndexOf('\n', offset - 1) + 1;
}

/** Where the line holding `offset` ends (before its `\n`, or before `\r\n` in a CRLF file). */
function lineEnd(text: string, offset: number): number {
  const i = text.indexOf('\n', offset);
  if (i === -1) return text.length;
  return i > 0 && text[i - 1] === '\r' ? i - 1 : i;
}

function columnOf(text: string, offset: number): number {
  return offset - lineStart(text, offset);
}

/** Only spaces between the start of the line and `offset`. */
function startsLine(text: string, offset: number): boolean {
  return /^[ ]*$/.test(text.slice(lineStart(text, offset), offset));
}

/** End of a node's own text: its range end with trailing whitespace (block collections end after a newline) cut. */
function contentEnd(text: string, node: unknown): number | undefined {
  const r = rangeOf(node);
  if (!r) return undefined;
  let end = r[1];
  while (end > r[0] && /\s/.test(text[end - 1]!)) end -= 1;
  return end;
}

interface Splice {
  start: number;
  end: number;
  insert: string;
}

function applySplice(text: string, s: Splice): string {
  return text.slice(0, s.start) + s.insert + text.slice(s.end);
}

// ---------------------------------------------------------------------------------------------------------
// Plain-value model of an edit (what the file must hold afterwards)

function setPlain(root: unknown, path: ConfigPath, value: unknown): unknown {
  if (path.length === 0) return value;
  const [seg, ...rest] = path as [string | number, ...(string | number)[]];
  if (Array.isArray(root) && typeof seg === 'number') {
    const copy = [...(root as unknown[])];
    copy[seg] = setPlain(copy[seg], rest, value);
    return copy;
  }
  const obj: Record<string, unknown> = isPlainObject(root) ? { ...root } : {};
  obj[String(seg)] = setPlain(obj[String(seg)], rest, value);
  return obj;
}

function deletePlain(root: unknown, path: ConfigPath): unknown {
  if (path.length === 0) return null;
  const [seg, ...rest] = path as [string | number, ...(string | number)[]];
  if (Array.isArray(root) && typeof seg === 'number') {
    const copy = [...(root as unknown[])];
    if (rest.length === 0) copy.splice(seg, 1);
    else copy[seg] = deletePlain(copy[seg], rest);
    return copy;
  }
  if (!isPlainObject(root)) return root;
  const obj = { ...root };
  if (rest.length === 0) delete obj[String(seg)];
  else obj[String(seg)] = deletePlain(obj[String(seg)], rest);
  return obj;
}

/** `{a: {b: value}}` for rest `['a', 'b']`. */
function nest(rest: ConfigPath, value: unknown): unknown {
  return setPlain(undefined, rest, value);
}

// ---------------------------------------------------------------------------------------------------------
// Text splices for set and delete

function parentOf(doc: Document, path: ConfigPath): Node | null {
  return path.length === 1 ? (doc.contents ?? null) : findPath(doc, path.slice(0, -1)).node;
}

/** Replace the value of `pair` (a key of `map`). */
function replacePairValue(
  text: string,
  map: YAMLMap,
  pair: Pair,
  value: unknown,
): Splice | undefined {
  const keyRange = rangeOf(pair.key);
  if (!keyRange) return undefined;
  const valueNode = pair.value;
  const valueEnd =
    valueNode === null || valueNode === undefined ? keyRange[1] : contentEnd(text, valueNode);
  if (valueEnd === undefined) return undefined;
  if (map.flow) {
    const r = rangeOf(valueNode);
    if (!r) return undefined;
    return { start: r[0], end: valueEnd, insert: renderInline(value, styleOf(valueNode)) };
  }
  const colon = text.indexOf(':', keyRange[1]);
  if (colon === -1 || colon > valueEnd) return undefined;
  const keyColumn = columnOf(text, keyRange[0]);
  const insert = needsBlock(value)
    ? `\n${renderBlock(value, keyColumn + 2)}`
    : ` ${renderInline(value, styleOf(valueNode))}`;
  return { start: colon + 1, end: Math.max(valueEnd, colon + 1), insert };
}

/** Replace item `index` of `seq`. */
function replaceSeqItem(
  text: string,
  seq: YAMLSeq,
  index: number,
  value: unknown,
): Splice | undefined {
  const item: unknown = seq.items[index];
  const r = rangeOf(item);
  const end = contentEnd(text, item);
  if (!r || end === undefined || isPair(item)) return undefined;
  if (seq.flow || !needsBlock(value)) {
    return { start: r[0], end, insert: renderInline(value, styleOf(item)) };
  }
  const column = columnOf(text, r[0]);
  return { start: r[0], end, insert: renderBlock(value, column).slice(column) };
}

/** Insert `item` before the closing bracket of a flow collection (`{a: 1}`, `[1]`), after a comma if needed. */
function flowAppend(
  text: string,
  node: YAMLMap | YAMLSeq,
  close: '}' | ']',
  item: string,
): Splice | undefined {
  const r = rangeOf(node);
  if (!r) return undefined;
  const at = text.lastIndexOf(close, r[1]);
  if (at < r[0]) return undefined;
  const sep = node.items.length > 0 ? ', ' : '';
  return { start: at, end: at, insert: `${sep}${item}` };
}

/** Add `key: value` at the end of `map` (the root when `map` is the document's contents). */
function addPair(text: string, map: YAMLMap, key: string, value: unknown): Splice | undefined {
  const keyText = renderInline(key);
  if (map.flow) return flowAppend(text, map, '}', `${keyText}: ${renderInline(value)}`);
  const last = map.items[map.items.length - 1];
  const first = map.items[0];
  const firstKey = rangeOf(first?.key);
  if (!last || !firstKey || !startsLine(text, firstKey[0])) return undefined;
  const indent = columnOf(text, firstKey[0]);
  const lastEnd =
    last.value === null || last.value === undefined
      ? rangeOf(last.key)?.[1]
      : contentEnd(text, last.value);
  if (lastEnd === undefined) return undefined;
  const at = lineEnd(text, lastEnd);
  const body = needsBlock(value)
    ? `\n${renderBlock(value, indent + 2)}`
    : ` ${renderInline(value)}`;
  return { start: at, end: at, insert: `\n${' '.repeat(indent)}${keyText}:${body}` };
}

/** Append `value` to `seq`. */
function appendItem(text: string, seq: YAMLSeq, value: unknown): Splice | undefined {
  if (seq.flow) return flowAppend(text, seq, ']', renderInline(value));
  const first: unknown = seq.items[0];
  const last: unknown = seq.items[seq.items.length - 1];
  const firstRange = rangeOf(first);
  const lastEnd = contentEnd(text, last);
  if (!firstRange || lastEnd === undefined) return undefined;
  const dash = text.lastIndexOf('-', firstRange[0]);
  if (dash === -1 || !startsLine(text, dash)) return undefined;
  const indent = columnOf(text, dash);
  const body = needsBlock(value)
    ? renderBlock(value, indent + 2).slice(indent + 2)
    : renderInline(value);
  const at = lineEnd(text, lastEnd);
  return { start: at, end: at, insert: `\n${' '.repeat(indent)}- ${body}` };
}

function spliceForSet(
  text: string,
  doc: Document,
  path: ConfigPath,
  value: unknown,
): Splice | undefined {
  if (path.length === 0) return undefined;
  const look = findPath(doc, path);
  if (look.found) {
    const parent = parentOf(doc, path);
    const seg = path[path.length - 1]!;
    if (isMap(parent) && look.pair) return replacePairValue(text, parent, look.pair, value);
    if (isSeq(parent) && typeof seg === 'number') return replaceSeqItem(text, parent, seg, value);
    return undefined;
  }
  const rest = path.slice(look.depth);
  const seg = rest[0]!;
  const holder = look.depth === 0 ? (doc.contents ?? null) : look.node;
  if (isMap(holder)) return addPair(text, holder, String(seg), nest(rest.slice(1), value));
  if (isSeq(holder) && typeof seg === 'number' && seg === holder.items.length) {
    return appendItem(text, holder, nest(rest.slice(1), value));
  }
  if (look.depth === 0 && (holder === null || (isScalar(holder) && holder.value === null))) {
    // Empty file (or only comments): append the new top-level key.
    const body = needsBlock(nest(rest.slice(1), value))
      ? `\n${renderBlock(nest(rest.slice(1), value), 2)}`
      : ` ${renderInline(nest(rest.slice(1), value))}`;
    const sep = text === '' || text.endsWith('\n') ? '' : '\n';
    return {
      start: text.length,
      end: text.length,
      insert: `${sep}${renderInline(String(seg))}:${body}\n`,
    };
  }
  if (look.depth > 0 && !isCollection(holder)) {
    // The path runs through a scalar (often `key:` with no value): replace that scalar with the new mapping.
    return spliceForSet(text, doc, path.slice(0, look.depth), nest(rest, value));
  }
  return undefined;
}

/** Remove the lines from the start of `from`'s line to the end of the line where `to` ends. */
function removeLines(text: string, from: number, to: number): Splice | undefined {
  if (!startsLine(text, from)) return undefined;
  const start = lineStart(text, from);
  const next = text.indexOf('\n', to);
  return { start, end: next === -1 ? text.length : next + 1, insert: '' };
}

function spliceForDelete(text: string, doc: Document, path: ConfigPath): Splice | undefined {
  if (path.length === 0) return undefined;
  const look = findPath(doc, path);
  if (!look.found) return undefined;
  const parent = parentOf(doc, path);
  const seg = path[path.length - 1]!;
  const parentPath = path.slice(0, -1);
  if (isMap(parent) && look.pair) {
    const items = parent.items;
    const i = items.indexOf(look.pair);
    if (items.length === 1) {
      if (parentPath.length === 0) {
        return { start: 0, end: text.length, insert: parent.flow ? '{}\n' : '' };
      }
      return spliceForSet(text, doc, parentPath, {});
    }
    const keyStart = rangeOf(look.pair.key)?.[0];
    const end =
      look.pair.value === null || look.pair.value === undefined
        ? rangeOf(look.pair.key)?.[1]
        : contentEnd(text, look.pair.value);
    if (keyStart === undefined || end === undefined) return undefined;
    if (parent.flow) return flowRemove(text, items, i, keyStart, end);
    return removeLines(text, keyStart, end);
  }
  if (isSeq(parent) && typeof seg === 'number') {
    const items = parent.items;
    if (items.length === 1) {
      if (parentPath.length === 0) {
        return { start: 0, end: text.length, insert: parent.flow ? '[]\n' : '' };
      }
      return spliceForSet(text, doc, parentPath, []);
    }
    const r = rangeOf(items[seg]);
    const end = contentEnd(text, items[seg]);
    if (!r || end === undefined) return undefined;
    if (parent.flow) return flowRemove(text, items, seg, r[0], end);
    const dash = text.lastIndexOf('-', r[0]);
    if (dash === -1 || text.slice(dash + 1, r[0]).trim() !== '') return undefined;
    return removeLines(text, dash, end);
  }
  return undefined;
}

function itemStart(item: unknown): number | undefined {
  return isPair(item) ? rangeOf(item.key)?.[0] : rangeOf(item)?.[0];
}

function itemEnd(text: string, item: unknown): number | undefined {
  if (isPair(item)) {
    return item.value === null || item.value === undefined
      ? rangeOf(item.key)?.[1]
      : contentEnd(text, item.value);
  }
  return contentEnd(text, item);
}

/** Remove item `i` of a flow collection with its separating comma. */
function flowRemove(
  text: string,
  items: unknown[],
  i: number,
  start: number,
  end: number,
): Splice | undefined {
  if (i < items.length - 1) {
    const next = itemStart(items[i + 1]);
    return next === undefined ? undefined : { start, end: next, insert: '' };
  }
  const prevEnd = itemEnd(text, items[i - 1]);
  return prevEnd === undefined ? undefined : { start: prevEnd, end, insert: '' };
}

// ---------------------------------------------------------------------------------------------------------
// Public edit API

function currentText(document: Document): string {
  return documentToText(document);
}

function commit(
  document: Document,
  text: string,
  splice: Splice | undefined,
  expected: unknown,
  fallback: () => void,
): void {
  if (splice) {
    // New lines follow the file's own line endings.
    if (text.includes('\r\n')) {
      splice = { ...splice, insert: splice.insert.replace(/\r?\n/g, '\r\n') };
    }
    const next = applySplice(text, splice);
    const check = parseText(next);
    if (check.errors.length === 0 && deepEqual(check.toJS(), expected)) {
      adopt(document, next);
      return;
    }
  }
  // The AST route: correct by construction, re-printed by `yaml` (comments and key order kept).
  adopt(document, text);
  fallback();
  adopt(document, document.toString({ lineWidth: 0 }));
}

/**
 * Sets the value at `path` (creating missing mappings on the way), changing only the text of that value.
 * The document is updated in place; `documentToText` gives the new file. `undefined` deletes the key.
 */
export function setConfigValue(document: Document, path: ConfigPath, value: unknown): void {
  if (path.length === 0) throw new Error('setConfigValue needs a non-empty path');
  if (value === undefined) {
    deleteConfigValue(document, path);
    return;
  }
  const text = currentText(document);
  const fresh = parseText(text);
  const expected = setPlain(fresh.toJS() as unknown, path, value);
  const splice = spliceForSet(text, fresh, path, value);
  commit(document, text, splice, expected, () => {
    if (fresh.contents === null && path.length > 0) document.contents = document.createNode({});
    document.setIn(path, document.createNode(value));
  });
}

/** Removes the value at `path` (its key, or its list item). Returns false when there was nothing there. */
export function deleteConfigValue(document: Document, path: ConfigPath): boolean {
  if (path.length === 0) throw new Error('deleteConfigValue needs a non-empty path');
  const text = currentText(document);
  const fresh = parseText(text);
  if (!findPath(fresh, path).found) return false;
  const expected = deletePlain(fresh.toJS() as unknown, path);
  const splice = spliceForDelete(text, fresh, path);
  commit(document, text, splice, expected, () => {
    document.deleteIn(path);
  });
  return true;
}

// ---------------------------------------------------------------------------------------------------------
// Writing new files from typed values

function toYaml(value: Record<string, unknown>): string {
  const doc = new Document(value, { version: '1.1' });
  return doc.toString({ lineWidth: 0, indent: 2 });
}

function withoutUndefined(obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) if (v !== undefined) out[k] = v;
  return out;
}

function sectionToPlain(
  s: ServerSectionConfig,
  shared: Record<string, unknown>,
  clusterMode: boolean,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // With disagg_cluster the urls are ignored, but a num_instances other than the default is still the user's
  // (upstream's test harness reads it to launch that many workers).
  if (!clusterMode || s.num_instances !== 1) out.num_instances = s.num_instances;
  if (!clusterMode && s.urls.length > 0) out.urls = [...s.urls];
  const sectionCopied = (key: string): boolean =>
    (key === 'max_batch_size' && s.max_batch_size !== undefined) ||
    (key === 'max_num_tokens' && s.max_num_tokens !== undefined);
  let args: Record<string, unknown>;
  if (s.router.args) {
    args = {};
    for (const [k, v] of Object.entries(s.router.args)) if (!sectionCopied(k)) args[k] = v;
  } else {
    args = {};
    if (s.router.use_tokens) args.use_tokens = true;
    if (s.router.max_batch_size !== 64 && s.max_batch_size === undefined) {
      args.max_batch_size = s.router.max_batch_size;
    }
    if (s.router.tokens_per_block !== 32) args.tokens_per_block = s.router.tokens_per_block;
    for (const [k, v] of Object.entries(s.router.extra)) if (!sectionCopied(k)) args[k] = v;
  }
  const routerName = s.router.declared_type ?? s.router.type;
  if (routerName !== 'round_robin' || Object.keys(args).length > 0) {
    out.router = { type: routerName, ...args };
  }
  const notShared = (key: string, v: unknown): boolean =>
    !(key in shared && deepEqual(shared[key], v));
  if (s.max_batch_size !== undefined && notShared('max_batch_size', s.max_batch_size)) {
    out.max_batch_size = s.max_batch_size;
  }
  if (s.max_num_tokens !== undefined && notShared('max_num_tokens', s.max_num_tokens)) {
    out.max_num_tokens = s.max_num_tokens;
  }
  if (s.tensor_parallel_size !== 1 && notShared('tensor_parallel_size', s.tensor_parallel_size)) {
    out.tensor_parallel_size = s.tensor_parallel_size;
  }
  if (
    s.pipeline_parallel_size !== 1 &&
    notShared('pipeline_parallel_size', s.pipeline_parallel_size)
  ) {
    out.pipeline_parallel_size = s.pipeline_parallel_size;
  }
  for (const [k, v] of Object.entries(s.other)) if (notShared(k, v) && v !== undefined) out[k] = v;
  return out;
}

/**
 * A new disagg_config.yaml for `config`: proxy settings first, then the keys shared by both sections, then the
 * sections (defaults left out), then conditional/otlp/disagg_cluster. Parsing the result gives back `config`.
 */
export function serializeDisaggConfig(config: DisaggConfig): string {
  const clusterMode = config.disagg_cluster !== undefined;
  const out: Record<string, unknown> = { hostname: config.hostname, port: config.port };
  if (config.max_retries !== 1) out.max_retries = config.max_retries;
  if (config.perf_metrics_max_requests !== 0) {
    out.perf_metrics_max_requests = config.perf_metrics_max_requests;
  }
  for (const [k, v] of Object.entries(config.release_settings ?? {})) {
    if (v !== undefined) out[k] = v;
  }
  for (const [k, v] of Object.entries(config.shared_keys)) if (v !== undefined) out[k] = v;
  const ctx = sectionToPlain(config.context_servers, config.shared_keys, clusterMode);
  const gen = sectionToPlain(config.generation_servers, config.shared_keys, clusterMode);
  if (Object.keys(ctx).length > 0) out.context_servers = ctx;
  if (Object.keys(gen).length > 0) out.generation_servers = gen;
  if (config.conditional_disagg_config) {
    out.conditional_disagg_config = { ...config.conditional_disagg_config };
  }
  if (config.otlp_config && config.otlp_config.otlp_traces_endpoint !== undefined) {
    out.otlp_config = { ...config.otlp_config };
  }
  if (config.disagg_cluster) {
    const c = config.disagg_cluster;
    out.disagg_cluster = {
      cluster_uri: c.cluster_uri,
      cluster_name: c.cluster_name ?? DISAGG_CLUSTER_DEFAULTS.cluster_name,
      minimal_instances: { ...c.minimal_instances },
      heartbeat_interval_sec: c.heartbeat_interval_sec,
      inactive_timeout_sec: c.inactive_timeout_sec,
    };
  }
  return toYaml(out);
}

/** A new worker options file (`--extra_llm_api_options`); the cache transceiver backend is written uppercase. */
export function serializeWorkerOptions(options: WorkerOptions): string {
  const out = withoutUndefined({ ...options });
  const ctc = options.cache_transceiver_config;
  if (ctc) {
    const c = withoutUndefined({ ...ctc });
    if (typeof ctc.backend === 'string') c.backend = ctc.backend.toUpperCase();
    out.cache_transceiver_config = c;
  }
  if (options.kv_cache_config) {
    out.kv_cache_config = withoutUndefined({ ...options.kv_cache_config });
  }
  if (options.disagg_cluster) {
    out.disagg_cluster = {
      ...options.disagg_cluster,
      minimal_instances: { ...options.disagg_cluster.minimal_instances },
    };
  }
  return Object.keys(out).length === 0 ? '{}\n' : toYaml(out);
}

/** A new metadata_config.yaml, `server_type` first (it has no default upstream). */
export function serializeMetadataConfig(config: MetadataConfig): string {
  return toYaml({
    server_type: config.server_type,
    hostname: config.hostname,
    port: config.port,
    health_check_timeout: config.health_check_timeout,
    refresh_interval: config.refresh_interval,
  });
}
