// One worker's log file, read as it grows (issue #15: adopted workers keep their output). The worker writes
// it itself, its stdout and stderr pointing at the file (O_APPEND), so its output outlives the console that
// spawned it; the console appends its own lines to the same file and reads everything back from here, in
// file order. Rotation is copy-then-truncate, because the worker's descriptor cannot be moved to a new file:
// the current file is copied to <file>.1 (older ones shifted up) and truncated, and the worker's next write
// lands at the new end (O_APPEND). Bytes written between the last read and the truncate are lost, as with
// logrotate's copytruncate. Layer: core (plain Node).
import {
  closeSync,
  copyFileSync,
  existsSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
} from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

/** How much of an existing file is read to seed the view when the console first looks at a worker. */
const SEED_BYTES = 256 * 1024;
const READ_CHUNK = 64 * 1024;

export interface LogFileTailOptions {
  path: string;
  /** Rotated once it grows past this. */
  maxFileBytes: number;
  /** Rotated files kept (<file>.1 ... .N). */
  maxFiles: number;
}

/** Reads a log file from where it was last read; lines end at '\n', '\r\n' or '\r' (tqdm redraws). */
export interface LogFileTail {
  readonly path: string;
  /** The last complete lines already in the file (at most seedBytes worth), and starts reading after them. */
  seed(): string[];
  /** New complete lines since the last read; rotates the file when it grew past its cap. */
  read(): string[];
  /** Whether the file ends in the middle of a line (a line the worker has not finished). */
  hasPartialLine(): boolean;
  /** Rotates now when adding `bytes` would pass the cap (before the console appends). */
  makeRoomFor(bytes: number): void;
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Shifts <path>.1..N up by one (dropping the oldest), copies path to <path>.1 and empties path. */
function copyTruncate(path: string, maxFiles: number): void {
  if (maxFiles < 1) {
    truncateSync(path, 0);
    return;
  }
  rmSync(`${path}.${maxFiles}`, { force: true });
  for (let i = maxFiles - 1; i >= 1; i--) {
    if (existsSync(`${path}.${i}`)) renameSync(`${path}.${i}`, `${path}.${i + 1}`);
  }
  copyFileSync(path, `${path}.1`);
  truncateSync(path, 0);
}

/** Splits decoded text into complete lines, keeping the unfinished rest. */
function splitLines(text: string): { lines: string[]; rest: string } {
  const parts = text.split(/\r\n|\n|\r(?!$)/);
  // A trailing '\r' may be the first half of '\r\n': it stays in the rest until the next read.
  const rest = parts.pop() ?? '';
  return { lines: parts, rest };
}

export function createLogFileTail(opts: LogFileTailOptions): LogFileTail {
  const { path } = opts;
  let offset = 0;
  let rest = '';
  let decoder = new StringDecoder('utf8');

  const readFrom = (start: number, end: number): string => {
    const fd = openSync(path, 'r');
    try {
      let text = '';
      const buf = Buffer.alloc(Math.min(READ_CHUNK, end - start));
      for (let pos = start; pos < end;) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, end - pos), pos);
        if (n === 0) break;
        text += decoder.write(buf.subarray(0, n));
        pos += n;
      }
      return text;
    } finally {
      closeSync(fd);
    }
  };

  const rotateIfFull = (extra: number): void => {
    const size = sizeOf(path);
    if (size === 0 || size + extra <= opts.maxFileBytes) return;
    copyTruncate(path, opts.maxFiles);
    offset = 0;
  };

  return {
    path,
    seed() {
      const size = sizeOf(path);
      const start = Math.max(0, size - SEED_BYTES);
      decoder = new StringDecoder('utf8');
      const split = splitLines(size > start ? readFrom(start, size) : '');
      offset = size;
      rest = split.rest;
      // Starting inside the file, the first piece is the end of a line whose start was not read.
      return start > 0 ? split.lines.slice(1) : split.lines;
    },
    read() {
      const size = sizeOf(path);
      if (size < offset) {
        // Truncated by someone else (another console's rotation, a user): read the new content from the top.
        offset = 0;
        rest = '';
        decoder = new StringDecoder('utf8');
      }
      if (size === offset) return [];
      const split = splitLines(rest + readFrom(offset, size));
      offset = size;
      rest = split.rest;
      rotateIfFull(0);
      return split.lines;
    },
    hasPartialLine: () => rest !== '',
    makeRoomFor: (bytes) => rotateIfFull(bytes),
  };
}
