// Import of upstream files (also the deprecated MPI worker file) as the backend's draft, and export of the
// topology as the upstream files, the launch script or a SLURM script (feature K4). A file that does not parse
// leaves the draft as it was; the error is shown here at its line and column. Layer: renderer.

import { type ChangeEvent, type ReactNode } from 'react';

import type { ExportFormat } from '../../../shared/model/topology';
import { Button } from '../../components/button';
import { IssueList } from '../../components/issue-list';
import { Panel } from '../../components/panel';
import { downloadText } from '../../lib/download';
import { useAppFields } from '../../store/app-store-context';

const EXPORTS: { format: ExportFormat; label: string }[] = [
  { format: 'files', label: 'Export files' },
  { format: 'launch-script', label: 'Launch script' },
  { format: 'slurm-script', label: 'SLURM script' },
];

export function ImportExportPanel(): ReactNode {
  const { importFiles, exportTopology, notify, importError } = useAppFields(
    'importFiles',
    'exportTopology',
    'notify',
    'importError',
  );

  const onImport = async (e: ChangeEvent<HTMLInputElement>): Promise<void> => {
    const list = [...(e.target.files ?? [])];
    e.target.value = '';
    if (list.length === 0) return;
    const files: Record<string, string> = {};
    for (const f of list) files[f.name] = await f.text();
    await importFiles(files);
  };

  const onExport = async (format: ExportFormat): Promise<void> => {
    const files = await exportTopology(format);
    for (const f of files) {
      downloadText(f.name, f.text, f.isExecutable ? 'text/x-shellscript' : 'text/yaml');
    }
    if (files.length > 0) notify('success', `Exported ${files.map((f) => f.name).join(', ')}`);
  };

  return (
    <Panel title="Import and export" titleId="io-title">
      <div style={{ display: 'flex', flexDirection: 'column', gap: 8 }}>
        <label className="btn" style={{ justifyContent: 'center' }}>
          Import upstream files…
          <input
            className="sr-only"
            type="file"
            multiple
            accept=".yaml,.yml"
            onChange={(e) => void onImport(e)}
          />
        </label>
        {importError ? (
          <div className="error-box" role="alert" aria-label="Import error">
            <strong>Not imported:</strong> {importError.message} The draft was kept as it was.
            <IssueList issues={importError.issues} />
          </div>
        ) : null}
        <span className="hint">
          disagg_config.yaml, worker option files, metadata_config.yaml, or one deprecated MPI
          worker file. They open as drafts.
        </span>
        <div className="btn-group">
          {EXPORTS.map((e) => (
            <Button key={e.format} isSmall onClick={() => onExport(e.format)}>
              {e.label}
            </Button>
          ))}
        </div>
      </div>
    </Panel>
  );
}
