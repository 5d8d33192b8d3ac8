// A CodeMirror 6 YAML editor (feature K1): syntax highlighting, line numbers, search, undo, and the issues
// of the file underlined at their line and column with the message on hover and in the gutter. The text is
// controlled: outside changes (forms, revert, import) replace the document; typing reports through onChange.
// Layer: renderer.

import { defaultKeymap, history, historyKeymap, indentWithTab } from '@codemirror/commands';
import { yaml } from '@codemirror/lang-yaml';
import { HighlightStyle, syntaxHighlighting } from '@codemirror/language';
import { type Diagnostic, lintGutter, setDiagnostics } from '@codemirror/lint';
import { highlightSelectionMatches, searchKeymap } from '@codemirror/search';
import { EditorState, type Text } from '@codemirror/state';
import {
  EditorView,
  highlightActiveLine,
  highlightActiveLineGutter,
  keymap,
  lineNumbers,
} from '@codemirror/view';
import { tags } from '@lezer/highlight';
import { type ReactNode, useEffect, useRef } from 'react';

import type { ConfigIssue } from '../../../shared/logic/config-issues';

const highlight = HighlightStyle.define([
  { tag: [tags.propertyName, tags.definition(tags.propertyName)], color: 'var(--link)' },
  { tag: [tags.string, tags.special(tags.string)], color: 'var(--ok)' },
  { tag: [tags.number, tags.bool, tags.null], color: 'var(--warn)' },
  { tag: tags.comment, color: 'var(--text-dim)', fontStyle: 'italic' },
  { tag: [tags.keyword, tags.meta, tags.typeName], color: 'var(--ctx)' },
]);

/** Converts a 1-based line/column issue into a CodeMirror range covering the token at that place. */
function issueToDiagnostic(doc: Text, issue: ConfigIssue): Diagnostic {
  const lineNo = Math.min(Math.max(1, issue.line), doc.lines);
  const line = doc.line(lineNo);
  const from = Math.min(line.from + Math.max(0, issue.column - 1), line.to);
  const rest = doc.sliceString(from, line.to);
  const token = /^[^\s#]*(?:\s*:\s*[^\s#]+)?/.exec(rest)?.[0] ?? '';
  const to =
    token.length > 0
      ? from + token.length
      : line.to > from
        ? line.to
        : Math.min(doc.length, from + 1);
  const message = `${issue.path ? `${issue.path}: ` : ''}${issue.message}${issue.hint ? ` (${issue.hint})` : ''}`;
  return { from, to: Math.max(to, from), severity: issue.severity, message };
}

export function YamlEditor({
  value,
  onChange,
  issues,
  label,
}: {
  value: string;
  onChange: (text: string) => void;
  issues: ConfigIssue[];
  label: string;
}): ReactNode {
  const hostRef = useRef<HTMLDivElement>(null);
  const viewRef = useRef<EditorView | null>(null);
  const onChangeRef = useRef(onChange);
  useEffect(() => {
    onChangeRef.current = onChange;
  }, [onChange]);

  useEffect(() => {
    const host = hostRef.current;
    if (!host) return;
    const view = new EditorView({
      parent: host,
      state: EditorState.create({
        doc: value,
        extensions: [
          lineNumbers(),
          highlightActiveLineGutter(),
          highlightActiveLine(),
          history(),
          yaml(),
          syntaxHighlighting(highlight),
          highlightSelectionMatches(),
          lintGutter(),
          keymap.of([...defaultKeymap, ...historyKeymap, ...searchKeymap, indentWithTab]),
          EditorView.contentAttributes.of({ 'aria-label': label }),
          EditorView.updateListener.of((u) => {
            if (u.docChanged) onChangeRef.current(u.state.doc.toString());
          }),
        ],
      }),
    });
    viewRef.current = view;
    return () => {
      view.destroy();
      viewRef.current = null;
    };
    // The editor is created once per mount; value changes are pushed in by the effect below.
    // eslint-disable-next-line react-hooks/exhaustive-deps -- re-creating the view on every keystroke would lose undo history and focus
  }, [label]);

  useEffect(() => {
    const view = viewRef.current;
    if (!view) return;
    const current = view.state.doc.toString();
    if (current !== value) {
      view.dispatch({ changes: { from: 0, to: current.length, insert: value } });
    }
  }, [value]);

  useEffect(() => {
    const view = viewRef.current;
    if (!view) return;
    const doc = view.state.doc;
    view.dispatch(
      setDiagnostics(
        view.state,
        issues.map((i) => issueToDiagnostic(doc, i)),
      ),
    );
  }, [issues, value]);

  return <div className="editor-host" ref={hostRef} data-testid="yaml-editor" />;
}
