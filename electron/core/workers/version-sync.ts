// Keeps the proxy speaking its workers' TensorRT-LLM release: every worker the proxy routes to (local, static
// urls of other machines, registered remote ones) has its release detected (worker-versions.ts), and the
// proxy is given the oldest of the known ones, with a warning while they differ (docs/upstream-versions.md
// section 8). A local `trtllm-serve` worker can also be asked through its binary's `--version`. Layer: core.

import { oldestCommonVersion } from '../../../shared/logic/trtllm-dialect';
import { workerUrlOf } from '../../../shared/logic/worker-url';
import type { ClusterMembership } from '../membership';
import type { ProxyHost } from '../proxy-host';
import type { SettingsService } from '../settings-service';
import type { WorkerSupervisor } from '../supervisor/worker-supervisor';
import type { VersionTarget, WorkerVersions } from './worker-versions';

/** What the sync reads and drives. */
export interface VersionSyncInputs {
  versions: WorkerVersions;
  membership: ClusterMembership;
  supervisor: WorkerSupervisor;
  proxy: ProxyHost;
  settings: SettingsService;
}

/** The workers to know the release of: the proxy's members, with the binary of local trtllm-serve ones. */
function versionTargets(p: VersionSyncInputs): VersionTarget[] {
  const members = p.membership.members();
  const binaries = new Map<string, string>();
  for (const s of p.supervisor.list()) {
    const spec = p.supervisor.spec(s.id);
    if (spec.engine !== 'trtllm-serve') continue;
    binaries.set(
      workerUrlOf(spec),
      spec.binaryPath ?? p.settings.get().trtllmServePath ?? 'trtllm-serve',
    );
  }
  return [...new Set([...members.context, ...members.generation])].map((url) => {
    const binary = binaries.get(url);
    return binary === undefined ? { url } : { url, binary };
  });
}

/** One sync step: detection started for new members, the proxy given their common release. */
export function syncWorkerVersions(p: VersionSyncInputs): void {
  const targets = versionTargets(p);
  p.versions.track(targets);
  const known = targets.flatMap((t) => p.versions.of(t.url)?.version ?? []);
  p.proxy.setWorkerVersions(oldestCommonVersion(known));
}
