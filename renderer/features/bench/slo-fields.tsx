// The goodput SLO inputs (TTFT and TPOT in ms, benchmark_serving's `--goodput ttft:MS tpot:MS`) that the
// load-test form and the planner both ask for (renderer/lib/slo-text turns them into BenchSlos). Layer: renderer.

import type { ReactNode } from 'react';

import { NumberField } from '../../components/number-field';

export function SloFields({
  ttft,
  tpot,
  onTtft,
  onTpot,
}: {
  ttft: string;
  tpot: string;
  onTtft: (text: string) => void;
  onTpot: (text: string) => void;
}): ReactNode {
  return (
    <>
      <NumberField
        label="SLO TTFT (ms)"
        value={ttft}
        onChange={onTtft}
        min={0}
        placeholder="none"
      />
      <NumberField
        label="SLO TPOT (ms)"
        value={tpot}
        onChange={onTpot}
        min={0}
        placeholder="none"
      />
    </>
  );
}
