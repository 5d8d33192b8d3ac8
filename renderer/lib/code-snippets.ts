// "View code" for the playground (G4): the same request as curl, Python (openai) and Node (openai).
// Layer: renderer (pure).

import { buildRequestBody, endpointPath, type PlaygroundRequest } from './openai-request';

export type SnippetLanguage = 'curl' | 'python' | 'node';

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function pyLiteral(value: unknown, indent: string): string {
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((v) => pyLiteral(v, indent)).join(', ')}]`;
  if (typeof value === 'object') {
    const inner = indent + '    ';
    const entries = Object.entries(value as Record<string, unknown>).map(
      ([k, v]) => `${inner}${JSON.stringify(k)}: ${pyLiteral(v, inner)}`,
    );
    return `{\n${entries.join(',\n')}\n${indent}}`;
  }
  return 'None';
}

/** The request as code in one language; `proxyUrl` is e.g. `http://127.0.0.1:8000`. */
export function codeSnippet(
  lang: SnippetLanguage,
  proxyUrl: string,
  req: PlaygroundRequest,
): string {
  const base = proxyUrl.replace(/\/+$/, '');
  const body = buildRequestBody(req);
  const pins: [string, string][] = [];
  if (req.route.contextWorker) pins.push(['x-disagg-context-worker', req.route.contextWorker]);
  if (req.route.generationWorker) {
    pins.push(['x-disagg-generation-worker', req.route.generationWorker]);
  }
  if (lang === 'curl') {
    const lines = [
      `curl -N ${base}${endpointPath(req.mode)} \\`,
      `  -H 'Content-Type: application/json' \\`,
    ];
    for (const [k, v] of pins) lines.push(`  -H ${shellQuote(`${k}: ${v}`)} \\`);
    lines.push(`  -d ${shellQuote(JSON.stringify(body, null, 2))}`);
    return lines.join('\n');
  }
  const { model, stream: _stream, stream_options: _opts, messages, prompt, ...rest } = body;
  if (lang === 'python') {
    const args: string[] = [`    model=${pyLiteral(model, '    ')},`];
    if (messages !== undefined) args.push(`    messages=${pyLiteral(messages, '    ')},`);
    if (prompt !== undefined) args.push(`    prompt=${pyLiteral(prompt, '    ')},`);
    for (const [k, v] of Object.entries(rest)) args.push(`    ${k}=${pyLiteral(v, '    ')},`);
    args.push('    stream=True,');
    if (pins.length > 0) {
      args.push(`    extra_headers=${pyLiteral(Object.fromEntries(pins), '    ')},`);
    }
    const call =
      req.mode === 'chat' ? 'client.chat.completions.create' : 'client.completions.create';
    const read =
      req.mode === 'chat' ? 'chunk.choices[0].delta.content or ""' : 'chunk.choices[0].text';
    return [
      'from openai import OpenAI',
      '',
      `client = OpenAI(base_url=${JSON.stringify(base + '/v1')}, api_key="not-needed")`,
      `stream = ${call}(`,
      ...args,
      ')',
      'for chunk in stream:',
      '    if chunk.choices:',
      `        print(${read}, end="", flush=True)`,
      'print()',
    ].join('\n');
  }
  const params: Record<string, unknown> = {
    model,
    ...(messages !== undefined ? { messages } : { prompt }),
    ...rest,
    stream: true,
  };
  const call = req.mode === 'chat' ? 'client.chat.completions.create' : 'client.completions.create';
  const read =
    req.mode === 'chat' ? "chunk.choices[0]?.delta?.content ?? ''" : "chunk.choices[0]?.text ?? ''";
  const headerArg =
    pins.length > 0 ? `, { headers: ${JSON.stringify(Object.fromEntries(pins))} }` : '';
  const paramsText = JSON.stringify(params, null, 2).replace(/\n/g, '\n');
  return [
    "import OpenAI from 'openai';",
    '',
    `const client = new OpenAI({ baseURL: '${base}/v1', apiKey: 'not-needed' });`,
    `const stream = await ${call}(${paramsText}${headerArg});`,
    'for await (const chunk of stream) {',
    `  process.stdout.write(${read});`,
    '}',
  ].join('\n');
}
