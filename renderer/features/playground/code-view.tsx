// "View code" (feature G4): the current request as curl, Python (openai) and Node (openai), with copy.
// Layer: renderer.

import { type ReactNode, useState } from 'react';

import { codeSnippet, type SnippetLanguage } from '../../lib/code-snippets';
import type { PlaygroundRequest } from '../../lib/openai-request';
import { useAppStore } from '../../store/app-store-context';

const LANGS: { id: SnippetLanguage; label: string }[] = [
  { id: 'curl', label: 'curl' },
  { id: 'python', label: 'Python' },
  { id: 'node', label: 'Node' },
];

export function CodeView({
  request,
  proxyUrl,
}: {
  request: PlaygroundRequest;
  proxyUrl: string;
}): ReactNode {
  const [lang, setLang] = useState<SnippetLanguage>('curl');
  const notify = useAppStore((s) => s.notify);
  const code = codeSnippet(lang, proxyUrl, request);
  return (
    <section className="panel" aria-label="View code">
      <div className="panel-head">
        <h2>Code</h2>
        <div className="seg" role="group" aria-label="Language">
          {LANGS.map((l) => (
            <button
              key={l.id}
              type="button"
              aria-pressed={lang === l.id}
              onClick={() => setLang(l.id)}
            >
              {l.label}
            </button>
          ))}
        </div>
        <span className="spacer" />
        <button
          type="button"
          className="btn btn-small"
          onClick={() =>
            void navigator.clipboard.writeText(code).then(
              () => notify('success', 'Copied the snippet'),
              () =>
                notify(
                  'error',
                  'The clipboard is not available here; select the code and copy it by hand.',
                ),
            )
          }
        >
          Copy
        </button>
      </div>
      <pre className="code" data-testid="code-snippet">
        {code}
      </pre>
    </section>
  );
}
