// "View code" (feature G4): the current request as curl, Python (openai) and Node (openai), with copy.
// Layer: renderer.

import { type ReactNode, useState } from 'react';

import { Button } from '../../components/button';
import { PanelHead } from '../../components/panel-head';
import { Segmented } from '../../components/segmented';
import { codeSnippet, type SnippetLanguage } from '../../lib/code-snippets';
import type { PlaygroundRequest } from '../../lib/openai-request';
import { useAppStore } from '../../store/app-store-context';

const LANGS: { value: SnippetLanguage; label: string }[] = [
  { value: 'curl', label: 'curl' },
  { value: 'python', label: 'Python' },
  { value: 'node', label: 'Node' },
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
      <PanelHead
        title="Code"
        actions={
          <Button
            isSmall
            onClick={() =>
              navigator.clipboard.writeText(code).then(
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
          </Button>
        }
      >
        <Segmented label="Language" choices={LANGS} value={lang} onPick={setLang} />
      </PanelHead>
      <pre className="code" data-testid="code-snippet">
        {code}
      </pre>
    </section>
  );
}
