// The embedded etcd: a real /usr/bin/etcd child on loopback with data in a temp data dir, usable by the
// cluster storage, stopped by pid; a clear "unavailable" status when the binary is missing.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { EtcdClusterStorage } from '../../../../electron/core/cluster/etcd-cluster-storage';
import {
  type EmbeddedEtcd,
  ETCD_MISSING_MESSAGE,
  EtcdStartError,
  findEtcdBinary,
  startEmbeddedEtcd,
} from '../../../../electron/core/etcd/embedded-etcd';
import { isProcessAlive } from '../../../../electron/core/supervisor/pid-file';

let dir = '';
let etcd: EmbeddedEtcd | null = null;

afterEach(async () => {
  await etcd?.stop();
  etcd = null;
  rmSync(dir, { recursive: true, force: true });
});

describe('embedded etcd', () => {
  it('runs on loopback with its data in the data dir, serves keys, and stops by pid', async () => {
    dir = mkdtempSync(join(tmpdir(), 'dc-etcd-'));
    etcd = await startEmbeddedEtcd({ dataDir: join(dir, 'etcd') });
    expect(etcd.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(etcd.status()).toMatchObject({
      state: 'embedded',
      endpoint: etcd.endpoint,
      message: null,
    });
    expect(existsSync(join(dir, 'etcd', 'member'))).toBe(true);
    const storage = new EtcdClusterStorage([etcd.endpoint]);
    try {
      await storage.set('trtllm/x', '{"url":"http://127.0.0.1:1"}', { overwrite: true });
      expect(await storage.get('trtllm/x')).toBe('{"url":"http://127.0.0.1:1"}');
    } finally {
      await storage.close();
    }
    const pid = etcd.pid;
    await etcd.stop();
    expect(isProcessAlive(pid)).toBe(false);
    expect(etcd.status().state).toBe('unavailable');
  }, 30_000);

  it('reports a clear unavailable status when the binary is missing', async () => {
    dir = mkdtempSync(join(tmpdir(), 'dc-etcd-'));
    expect(findEtcdBinary('/nonexistent/etcd')).toBeNull();
    const err = await startEmbeddedEtcd({ dataDir: dir, binary: '/nonexistent/etcd' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(EtcdStartError);
    expect((err as EtcdStartError).status).toEqual({
      state: 'unavailable',
      endpoint: null,
      message: ETCD_MISSING_MESSAGE,
      pid: null,
    });
    expect(ETCD_MISSING_MESSAGE).toContain('install');
  });
});
