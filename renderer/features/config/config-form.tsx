// Forms for the common fields of the active file (feature K2), in sync with the YAML text: values are read
// from the draft and each change is written back through config-write (comments kept). Layer: renderer.

import { type ReactNode, useState } from 'react';

import {
  coerceField,
  type FieldSpec,
  FORM_FIELDS,
  readField,
  writeField,
} from '../../lib/config-fields';
import { fileKind } from '../../lib/lint-file';
import { useAppStore } from '../../store/app-store-context';
import { selectDraftFiles } from '../../store/selectors';

function FieldInput({
  spec,
  text,
  onWrite,
}: {
  spec: FieldSpec;
  text: string;
  onWrite: (value: unknown) => string | null;
}): ReactNode {
  const current = readField(text, spec.path);
  const shown =
    typeof current === 'string' || typeof current === 'number' || typeof current === 'boolean'
      ? String(current)
      : '';
  const [edit, setEdit] = useState<{ base: string; value: string } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const value = edit && edit.base === shown ? edit.value : shown;
  const id = `field-${spec.path.join('-')}`;

  const commit = (input: string | boolean): void => {
    const c = coerceField(spec, input);
    if (!c.ok) {
      setError(c.message);
      return;
    }
    setError(onWrite(c.value));
    setEdit(null);
  };

  if (spec.type === 'bool') {
    return (
      <label className="field" style={{ flexDirection: 'row', alignItems: 'center', gap: 8 }}>
        <input
          type="checkbox"
          checked={current === true}
          onChange={(e) => commit(e.target.checked)}
        />
        <span style={{ color: 'var(--text)', fontSize: 13 }}>{spec.label}</span>
        {spec.hint ? <span className="hint">{spec.hint}</span> : null}
        {error ? <span className="issue-error">{error}</span> : null}
      </label>
    );
  }
  return (
    <div className="field">
      <label htmlFor={id}>
        <span className="dim" style={{ fontSize: 12 }}>
          {spec.label}
        </span>
      </label>
      {spec.type === 'enum' ? (
        <select id={id} value={shown} onChange={(e) => commit(e.target.value)}>
          {shown === '' ? <option value="">(not set)</option> : null}
          {(spec.options ?? []).map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      ) : (
        <input
          id={id}
          value={value}
          placeholder="(not set)"
          aria-invalid={error !== null}
          onChange={(e) => setEdit({ base: shown, value: e.target.value })}
          onBlur={() => {
            if (edit && edit.value !== shown) commit(edit.value);
          }}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && edit) commit(edit.value);
          }}
        />
      )}
      {error ? (
        <span className="issue-error" style={{ fontSize: 12 }}>
          {error}
        </span>
      ) : spec.hint ? (
        <span className="hint">{spec.hint}</span>
      ) : null}
    </div>
  );
}

export function ConfigForm({ file }: { file: string }): ReactNode {
  const text = useAppStore((s) => selectDraftFiles(s)[file] ?? '');
  const setDraft = useAppStore((s) => s.setDraft);
  const fields = FORM_FIELDS[fileKind(file)];
  if (!fields) return <p className="dim">No form for this file: edit it as YAML.</p>;
  const onWrite =
    (spec: FieldSpec) =>
    (value: unknown): string | null => {
      try {
        setDraft(file, writeField(text, spec.path, value));
        return null;
      } catch (err) {
        return err instanceof Error ? err.message : String(err);
      }
    };
  return (
    <div
      style={{ display: 'flex', flexDirection: 'column', gap: 10 }}
      aria-label={`Common fields of ${file}`}
      role="group"
    >
      {fields.map((f) => (
        <FieldInput key={f.path.join('.')} spec={f} text={text} onWrite={onWrite(f)} />
      ))}
    </div>
  );
}
