// The dashboard's proxy-cost meter (issue #16): polls proxy:cost, keeps the previous sample and derives CPU
// µs per request and per token between the two (shared/logic/proxy-cost.ts), beside the floor of the last
// saved benchmark. Layer: renderer.
import { type MeterReading, meterReading } from '../../shared/logic/proxy-cost';
import type { ProxyCostFloor, ProxyCpuSample } from '../../shared/model/proxy-cost';
import { describeError } from '../lib/error-text';
import type { SliceCreator } from './store-types';

export interface ProxyCostSlice {
  proxyCost: {
    sample: ProxyCpuSample | null;
    reading: MeterReading | null;
    floor: ProxyCostFloor | null;
    floorError: string | null;
    error: string | null;
  };
  /** One poll; the dashboard calls it every few seconds while it is shown. */
  loadProxyCost: () => Promise<void>;
}

export const createProxyCostSlice: SliceCreator<ProxyCostSlice> = (set, get, { api }) => ({
  proxyCost: { sample: null, reading: null, floor: null, floorError: null, error: null },
  loadProxyCost: async () => {
    try {
      const report = await api.invoke('proxy:cost');
      const prev = get().proxyCost.sample;
      set({
        proxyCost: {
          sample: report.sample,
          reading: report.sample ? meterReading(prev, report.sample) : null,
          floor: report.floor,
          floorError: report.floorError,
          error: null,
        },
      });
    } catch (err) {
      set({ proxyCost: { ...get().proxyCost, error: describeError(err) } });
    }
  },
});
