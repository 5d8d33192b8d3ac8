// Worker release detection (docs/upstream-versions.md section 8): the setting wins, then `/version`, then a
// local trtllm-serve binary's `--version`; failures are retried after retryMs; the proxy gets the oldest
// common release with a warning while they differ.
import { describe, expect, it } from 'vitest';

import { mixedVersionWarning } from '../../../../electron/core/proxy-host';
import {
  createWorkerVersions,
  versionFromCommandOutput,
} from '../../../../electron/core/workers/worker-versions';
import { oldestCommonVersion, type TrtllmVersion } from '../../../../shared/logic/trtllm-dialect';

/** A fetch that answers `/version` per host from the table; a missing host fails like a refused connection. */
function versionFetch(table: Record<string, string | number>): {
  fetchImpl: typeof fetch;
  calls: string[];
} {
  const calls: string[] = [];
  const fetchImpl = ((input: string | URL) => {
    const url = new URL(String(input));
    calls.push(url.href);
    const answer = table[url.host];
    if (answer === undefined) return Promise.reject(new TypeError('fetch failed'));
    if (typeof answer === 'number') return Promise.resolve(new Response('', { status: answer }));
    return Promise.resolve(Response.json({ version: answer }));
  }) as typeof fetch;
  return { fetchImpl, calls };
}

describe('versionFromCommandOutput', () => {
  it.each([
    ['trtllm-serve, version 1.2.0\n', '1.2.0'],
    ['[TensorRT-LLM] TensorRT-LLM version: 1.3.0rc0\ntrtllm-serve, version 1.3.0rc0\n', '1.3.0rc0'],
    ['[TensorRT-LLM][INFO] CUDA 12.9 found\ntrtllm-serve, version 1.0.0.post1\n', '1.0.0.post1'],
    ['Usage: trtllm-serve [OPTIONS]\n', undefined],
    ['', undefined],
  ])('%j -> %s', (text, expected) => {
    expect(versionFromCommandOutput(text)).toBe(expected);
  });
});

describe('oldestCommonVersion', () => {
  it.each([
    [[], null, false],
    [['1.2', '1.2'], '1.2', false],
    [['1.3', '1.0', '1.2'], '1.0', true],
    [['1.1', '1.3'], '1.1', true],
  ] as [TrtllmVersion[], TrtllmVersion | null, boolean][])('%j -> %s', (list, oldest, isMixed) => {
    const common = oldestCommonVersion(list);
    expect(common.version).toBe(oldest);
    expect(common.isMixed).toBe(isMixed);
    expect(mixedVersionWarning(common) !== null).toBe(isMixed);
  });

  it('names the releases in the warning', () => {
    expect(mixedVersionWarning(oldestCommonVersion(['1.2', '1.0']))).toMatch(
      /1\.0, 1\.2.*speaks 1\.0/,
    );
  });
});

describe('createWorkerVersions', () => {
  it('reads /version, announces the release once, and forgets workers no longer tracked', async () => {
    const { fetchImpl, calls } = versionFetch({ 'a:1': '1.2.0', 'b:2': '1.0.0' });
    const versions = createWorkerVersions({ setting: () => 'auto', fetchImpl });
    const changed: string[] = [];
    versions.onDidChange((url) => changed.push(url));
    versions.track([{ url: 'http://a:1' }, { url: 'http://b:2' }]);
    await versions.settled();
    expect(versions.of('http://a:1')).toEqual({
      version: '1.2',
      reported: '1.2.0',
      source: 'endpoint',
    });
    expect(versions.of('http://b:2')?.version).toBe('1.0');
    expect(changed.sort()).toEqual(['http://a:1', 'http://b:2']);

    versions.track([{ url: 'http://a:1' }]);
    await versions.settled();
    expect(calls).toHaveLength(2); // a known worker is not asked again
    expect(versions.of('http://b:2')).toBeUndefined();
  });

  it('falls back to the binary for a local trtllm-serve worker without /version', async () => {
    const { fetchImpl } = versionFetch({ 'a:1': 404 });
    const ran: string[] = [];
    const versions = createWorkerVersions({
      setting: () => 'auto',
      fetchImpl,
      runVersionCommand: (binary) => {
        ran.push(binary);
        return Promise.resolve('trtllm-serve, version 1.1.0\n');
      },
    });
    versions.track([{ url: 'http://a:1', binary: '/opt/trtllm-serve' }]);
    await versions.settled();
    expect(ran).toEqual(['/opt/trtllm-serve']);
    expect(versions.of('http://a:1')).toEqual({
      version: '1.1',
      reported: '1.1.0',
      source: 'binary',
    });
  });

  it('tries a worker that did not answer again only after retryMs', async () => {
    const table: Record<string, string> = {};
    const { fetchImpl, calls } = versionFetch(table);
    let nowMs = 1000;
    const versions = createWorkerVersions({
      setting: () => 'auto',
      fetchImpl,
      retryMs: 500,
      now: () => nowMs,
    });
    versions.track([{ url: 'http://a:1' }]);
    await versions.settled();
    expect(versions.of('http://a:1')).toBeUndefined();
    nowMs += 499;
    versions.track([{ url: 'http://a:1' }]);
    await versions.settled();
    expect(calls).toHaveLength(1);
    table['a:1'] = '1.3.0rc0';
    nowMs += 1;
    versions.track([{ url: 'http://a:1' }]);
    await versions.settled();
    expect(calls).toHaveLength(2);
    expect(versions.of('http://a:1')?.version).toBe('1.3');
  });

  it('uses the setting when it names a release, without asking any worker', async () => {
    const { fetchImpl, calls } = versionFetch({ 'a:1': '1.3.0' });
    let setting: TrtllmVersion | 'auto' = '1.0';
    const versions = createWorkerVersions({ setting: () => setting, fetchImpl });
    versions.track([{ url: 'http://a:1' }]);
    await versions.settled();
    expect(calls).toEqual([]);
    expect(versions.of('http://a:1')).toEqual({
      version: '1.0',
      reported: null,
      source: 'setting',
    });
    setting = 'auto';
    versions.track([{ url: 'http://a:1' }]);
    await versions.settled();
    expect(versions.of('http://a:1')?.source).toBe('endpoint');
  });
});
