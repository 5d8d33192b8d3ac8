// Problems found in a config file, located by file, line and column, and how they are printed.
// Layer: shared (pure).

export type IssueSeverity = 'error' | 'warning';

/** One problem in one file, with a 1-based line and column and the dotted field path. */
export interface ConfigIssue {
  file: string;
  line: number;
  column: number;
  /** Dotted field path, e.g. `kv_cache_config.free_gpu_memory_fraction`; '' for the whole file. */
  path: string;
  message: string;
  /** A suggestion, e.g. the right spelling of a misspelt key. */
  hint?: string;
  severity: IssueSeverity;
}

/** `gen.yaml:4:3 kv_cache_config.free_gpu_memory_fraction: must be between 0 and 1, got 1.5` */
export function formatIssue(issue: ConfigIssue): string {
  const where = `${issue.file}:${issue.line}:${issue.column}`;
  const field = issue.path === '' ? '' : ` ${issue.path}:`;
  const hint = issue.hint ? ` (${issue.hint})` : '';
  const warn = issue.severity === 'warning' ? ' warning:' : '';
  return `${where}${warn}${field} ${issue.message}${hint}`;
}

/** Thrown where a caller needs the parsed value and the file is invalid. */
export class ConfigError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(
      issues
        .filter((i) => i.severity === 'error')
        .map(formatIssue)
        .join('\n') || 'invalid configuration',
    );
    this.name = 'ConfigError';
  }
}
