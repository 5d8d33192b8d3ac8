// The NVLink/PCIe matrix of `nvidia-smi topo -m` (feature C1): NV# cells highlighted, a legend in words.
// Layer: renderer.

import type { ReactNode } from 'react';

import type { GpuTopology } from '../../../shared/model/gpu';

const LEGEND: [string, string][] = [
  ['NV#', 'NVLink, # bonded links'],
  ['PIX', 'one PCIe switch'],
  ['PXB', 'several PCIe switches'],
  ['PHB', 'PCIe host bridge'],
  ['NODE', 'across host bridges, same NUMA node'],
  ['SYS', 'across NUMA nodes (SMP interconnect)'],
];

export function TopologyMatrix({ topology }: { topology: GpuTopology | null }): ReactNode {
  if (!topology || topology.devices.length === 0) {
    return <p className="dim">No interconnect matrix: `nvidia-smi topo -m` was not available.</p>;
  }
  const devices = topology.devices;
  return (
    <div style={{ overflowX: 'auto' }}>
      <table className="topo" aria-label="GPU interconnect topology">
        <thead>
          <tr>
            <th />
            {devices.map((d) => (
              <th key={d} scope="col">
                {d}
              </th>
            ))}
            <th scope="col">CPU affinity</th>
            <th scope="col">NUMA</th>
          </tr>
        </thead>
        <tbody>
          {devices.map((row) => {
            const gpuRow = topology.gpus.find((g) => g.device === row);
            return (
              <tr key={row}>
                <th scope="row">{row}</th>
                {devices.map((col) => {
                  const link = topology.links[row]?.[col];
                  return (
                    <td
                      key={col}
                      className={
                        link?.kind === 'nvlink'
                          ? 'nvlink'
                          : link?.kind === 'self'
                            ? 'self'
                            : undefined
                      }
                    >
                      {link?.raw ?? ''}
                    </td>
                  );
                })}
                <td>{gpuRow?.cpuAffinity ?? ''}</td>
                <td>{gpuRow?.numaAffinity ?? ''}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p className="hint">
        {LEGEND.map(([k, v]) => (
          <span key={k} style={{ marginRight: 12 }}>
            <b>{k}</b> {v}
          </span>
        ))}
      </p>
    </div>
  );
}
