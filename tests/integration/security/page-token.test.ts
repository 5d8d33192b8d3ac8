// The page side of "token only in the header" (issue #15 item 6): the console URL's `?token=` is taken once
// into sessionStorage and removed from the address bar; the API calls carry it in the Authorization header.

import { describe, expect, it, vi } from 'vitest';

import { type PageWindow, pickApiClient } from '../../../renderer/api/pick-transport';

function fakeWindow(
  href: string,
  stored: Record<string, string> = {},
): { win: PageWindow; replaced: string[]; storage: Map<string, string> } {
  const storage = new Map(Object.entries(stored));
  const replaced: string[] = [];
  const win: PageWindow = {
    location: { href, origin: new URL(href).origin },
    sessionStorage: {
      getItem: (k: string) => storage.get(k) ?? null,
      setItem: (k: string, v: string) => void storage.set(k, v),
    },
    history: { replaceState: (_s: unknown, _t: string, url: string) => void replaced.push(url) },
  };
  return { win, replaced, storage };
}

describe('the page takes the URL token once', () => {
  it('moves ?token= into sessionStorage and removes it from the address bar, keeping the rest', () => {
    const { win, replaced, storage } = fakeWindow(
      'http://127.0.0.1:5000/workers?tab=logs&token=abc#x',
    );
    const picked = pickApiClient(win);
    expect(picked.client).not.toBeNull();
    expect([...storage.values()]).toEqual(['abc']);
    expect(replaced).toEqual(['/workers?tab=logs#x']);
  });

  it('uses the stored token after a reload without ?token=, and explains when there is none', () => {
    const { win, replaced } = fakeWindow('http://127.0.0.1:5000/', {
      'disagg-console.token': 'abc',
    });
    expect(pickApiClient(win).client).not.toBeNull();
    expect(replaced).toEqual([]);
    const none = pickApiClient(fakeWindow('http://127.0.0.1:5000/').win);
    expect(none.client).toBeNull();
  });

  it('sends the token in the Authorization header of API calls, never in the URL', async () => {
    const seen: { url: string; headers: Record<string, string> }[] = [];
    const fetchStub = vi.fn((url: string, init: { headers: Record<string, string> }) => {
      seen.push({ url, headers: init.headers });
      return Promise.resolve(
        new Response(JSON.stringify({ ok: true, value: [] }), { status: 200 }),
      );
    });
    vi.stubGlobal('fetch', fetchStub);
    try {
      const picked = pickApiClient(fakeWindow('http://127.0.0.1:5000/?token=abc').win);
      if (!picked.client) throw new Error(picked.reason);
      await picked.client.invoke('workers:list');
      expect(seen).toHaveLength(1);
      expect(seen[0]?.url).toBe('http://127.0.0.1:5000/api/workers%3Alist');
      expect(seen[0]?.headers.authorization).toBe('Bearer abc');
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
