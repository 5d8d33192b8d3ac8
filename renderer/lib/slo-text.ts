// The goodput SLOs (benchmark_serving's `--goodput ttft:MS tpot:MS`) of the texts typed into the load-test
// form and the planner. Layer: renderer (pure).

import type { BenchSlos } from '../../shared/model/bench';

/** The SLOs of the typed texts (ms): an empty, non-numeric or non-positive text sets none. */
export function slosFromText(ttft: string, tpot: string): BenchSlos {
  const slos: BenchSlos = {};
  const ms = (text: string): number | undefined => {
    const v = Number(text);
    return text.trim() !== '' && Number.isFinite(v) && v > 0 ? v : undefined;
  };
  const t = ms(ttft);
  const p = ms(tpot);
  if (t !== undefined) slos.ttft = t;
  if (p !== undefined) slos.tpot = p;
  return slos;
}
