// The preload bridge (electron/preload.ts) with `electron` mocked: exposes { invoke, on } as 'bridge', only
// contract channels and events pass, listeners get payloads only, `on` returns its remover.
import { describe, expect, it, vi } from 'vitest';

const exposed: Record<string, unknown> = {};
const ipc = {
  invoke: vi.fn(() => Promise.resolve({ ok: true, value: 1 })),
  on: vi.fn(),
  removeListener: vi.fn(),
};
vi.mock('electron', () => ({
  contextBridge: { exposeInMainWorld: (key: string, api: unknown) => void (exposed[key] = api) },
  ipcRenderer: ipc,
}));

const { bridge } = await import('../../../electron/preload');

describe('preload bridge', () => {
  it('is exposed as window.bridge with functions only', () => {
    expect(exposed.bridge).toBe(bridge);
    expect(Object.values(bridge).every((v) => typeof v === 'function')).toBe(true);
  });

  it('invokes contract channels with spread arguments and refuses others', async () => {
    await expect(bridge.invoke('workers:remove', ['ctx0', { drainTimeoutMs: 5 }])).resolves.toEqual(
      { ok: true, value: 1 },
    );
    expect(ipc.invoke).toHaveBeenCalledWith('workers:remove', 'ctx0', { drainTimeoutMs: 5 });
    await expect(bridge.invoke('shell:exec', [])).rejects.toThrow(/unknown console API channel/);
    expect(ipc.invoke).toHaveBeenCalledTimes(1);
  });

  it('subscribes to contract events only, passes the payload without the Electron event, and unsubscribes', () => {
    const got: unknown[] = [];
    const off = bridge.on('metrics:tick', (p) => got.push(p));
    const [channel, handler] = ipc.on.mock.calls[0] as unknown as [
      string,
      (e: unknown, p: unknown) => void,
    ];
    expect(channel).toBe('event:metrics:tick');
    handler({ sender: 'electron-event' }, { x: 1 });
    expect(got).toEqual([{ x: 1 }]);
    off();
    expect(ipc.removeListener).toHaveBeenCalledWith('event:metrics:tick', handler);
    expect(() => bridge.on('ipc:anything', () => undefined)).toThrow(/unknown console API event/);
  });
});
