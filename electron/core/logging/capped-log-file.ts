// The console log's file: JSON lines appended to <dir>/console.log, rotated to console.log.1 ... .N when the
// next line would pass the size cap, so the log never grows past (N + 1) x cap. Appends are synchronous
// (the console logs a few lines a second at most, and a line written before a crash is not lost), and the
// reader walks the files newest first, skipping a torn last line. Layer: core.

import {
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';

export interface CappedLogFileOptions {
  path: string;
  /** A file is rotated when the next line would take it past this (default 2 MiB). */
  maxFileBytes?: number;
  /** Rotated files kept beside the current one (default 2). */
  maxRotatedFiles?: number;
}

/** A size-capped, rotating append-only file; `write` is what pino's destination calls. */
export class CappedLogFile {
  readonly path: string;
  private readonly maxFileBytes: number;
  private readonly maxRotatedFiles: number;
  private fd: number | null = null;
  private sizeBytes = 0;

  constructor(options: CappedLogFileOptions) {
    this.path = options.path;
    this.maxFileBytes = options.maxFileBytes ?? 2 * 1024 * 1024;
    this.maxRotatedFiles = options.maxRotatedFiles ?? 2;
  }

  /** Appends one line (pino hands whole lines ending in '\n'). */
  write(line: string): void {
    const bytes = Buffer.byteLength(line);
    const fd = this.open();
    if (this.sizeBytes > 0 && this.sizeBytes + bytes > this.maxFileBytes) {
      this.rotate();
      return this.write(line);
    }
    writeSync(fd, line);
    this.sizeBytes += bytes;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  /** Every file of the log, newest first: console.log, console.log.1, ... */
  files(): string[] {
    const all = [this.path];
    for (let i = 1; i <= this.maxRotatedFiles; i++) all.push(`${this.path}.${i}`);
    return all.filter((p) => existsSync(p));
  }

  /** The lines of every file, newest first (the current file's last line first). */
  *linesNewestFirst(): Generator<string> {
    for (const file of this.files()) {
      const lines = readFileSync(file, 'utf8').split('\n');
      for (let i = lines.length - 1; i >= 0; i--) {
        const line = lines[i] as string;
        if (line !== '') yield line;
      }
    }
  }

  private open(): number {
    if (this.fd === null) {
      this.fd = openSync(this.path, 'a');
      this.sizeBytes = fstatSync(this.fd).size;
    }
    return this.fd;
  }

  private rotate(): void {
    this.close();
    rmSync(`${this.path}.${this.maxRotatedFiles}`, { force: true });
    for (let i = this.maxRotatedFiles - 1; i >= 1; i--) {
      if (existsSync(`${this.path}.${i}`)) renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
    }
    if (this.maxRotatedFiles >= 1) renameSync(this.path, `${this.path}.1`);
    else rmSync(this.path, { force: true });
    this.open();
  }
}
