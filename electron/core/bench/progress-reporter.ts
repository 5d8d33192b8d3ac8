// Progress of a running load test on a stream (stderr): a redrawn bar when the stream is a TTY, otherwise a
// plain line every few seconds (logs and CI stay readable). Redraws are throttled so progress never costs
// the generator measurable time. Layer: core.
import type { LoadProgress } from './load-generator';

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface ProgressReporter {
  update(p: LoadProgress): void;
  /** Draws the final state and ends the line. */
  done(): void;
}

const BAR_WIDTH = 30;

/** The bar text for one state (pure, tested). */
export function formatProgress(p: LoadProgress, label = 'Benchmarking'): string {
  const frac = p.total > 0 ? Math.min(1, p.done / p.total) : 1;
  const filled = Math.round(frac * BAR_WIDTH);
  const rate = p.elapsedMs > 0 ? (p.done / p.elapsedMs) * 1000 : 0;
  const failed = p.failed > 0 ? `, ${p.failed} failed` : '';
  return `${label}: ${String(Math.round(frac * 100)).padStart(3)}%|${'█'.repeat(filled)}${' '.repeat(BAR_WIDTH - filled)}| ${p.done}/${p.total} [${(p.elapsedMs / 1000).toFixed(1)}s, ${rate.toFixed(2)} req/s${failed}]`;
}

export function createProgressReporter(
  stream: ProgressStream,
  o: { label?: string; plainEveryMs?: number } = {},
): ProgressReporter {
  const isTty = stream.isTTY === true;
  const minGapMs = isTty ? 100 : (o.plainEveryMs ?? 5_000);
  let lastDrawMs = -Infinity;
  let last: LoadProgress | undefined;
  const draw = (p: LoadProgress): void => {
    const text = formatProgress(p, o.label);
    stream.write(isTty ? `\r${text}` : `${text}\n`);
  };
  return {
    update(p) {
      last = p;
      const now = performance.now();
      if (now - lastDrawMs < minGapMs && p.done < p.total) return;
      lastDrawMs = now;
      draw(p);
    },
    done() {
      if (last) {
        if (isTty) draw(last);
        else if (performance.now() - lastDrawMs > 0 && last.done < last.total) draw(last);
      }
      if (isTty) stream.write('\n');
    },
  };
}
