import { createServer, type Server } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import {
  createPortAllocator,
  probePort,
} from '../../../../electron/core/supervisor/port-allocator';
import { getFreePort } from '../../../helpers/free-port';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

const occupy = (port: number): Promise<void> =>
  new Promise((resolve) => {
    const s = createServer();
    servers.push(s);
    s.listen(port, '127.0.0.1', () => resolve());
  });

describe('port allocator', () => {
  it('probePort tells a bound port from a free one', async () => {
    const port = await getFreePort();
    expect(await probePort('127.0.0.1', port)).toEqual({ free: true });
    await occupy(port);
    expect(await probePort('127.0.0.1', port)).toEqual({
      free: false,
      reason: 'in use by another process',
    });
  });

  it('allocates the first free port, skipping bound and reserved ones', async () => {
    const base = await getFreePort();
    const ports = createPortAllocator({ firstPort: base, lastPort: base + 20 });
    await occupy(base);
    ports.reserve(base + 1, 'ctx0');
    const got = await ports.allocate('127.0.0.1', 'gen0');
    expect(got).toBeGreaterThanOrEqual(base + 2);
    expect(ports.reservations()[got]).toBe('gen0');
    ports.release('gen0');
    expect(ports.reservations()[got]).toBeUndefined();
  });

  it('assertFree: PORT_IN_USE for a bound port or one another worker holds, fine for its own', async () => {
    const ports = createPortAllocator();
    const bound = await getFreePort();
    await occupy(bound);
    await expect(ports.assertFree('127.0.0.1', bound, 'w')).rejects.toMatchObject({
      code: 'PORT_IN_USE',
      message: expect.stringContaining(`port ${bound} on 127.0.0.1`) as string,
    });
    const held = await getFreePort();
    ports.reserve(held, 'ctx0');
    await expect(ports.assertFree('127.0.0.1', held, 'gen0')).rejects.toMatchObject({
      code: 'PORT_IN_USE',
      details: { port: held, holder: 'ctx0' },
    });
    await expect(ports.assertFree('127.0.0.1', held, 'ctx0')).resolves.toBeUndefined();
  });

  it('fails clearly when the range is exhausted', async () => {
    const port = await getFreePort();
    await occupy(port);
    await expect(
      createPortAllocator({ firstPort: port, lastPort: port }).allocate('127.0.0.1', 'w'),
    ).rejects.toMatchObject({ code: 'PORT_IN_USE' });
  });
});
