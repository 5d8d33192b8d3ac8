import { describe, expect, it } from 'vitest';

import { closestKey, editDistance } from '../../../../shared/logic/config-suggest';

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['abc', 'abc', 0],
    ['abc', 'abd', 1],
    ['abc', 'ab', 1],
    ['refersh', 'refresh', 1],
    ['kitten', 'sitting', 3],
  ])('%s -> %s is %i', (a, b, d) => {
    expect(editDistance(a, b)).toBe(d);
  });
});

describe('closestKey', () => {
  const known = ['refresh_interval', 'health_check_timeout', 'hostname', 'port', 'server_type'];
  it.each([
    ['refersh_interval', 'refresh_interval'],
    ['hostnme', 'hostname'],
    ['Port', 'port'],
    ['server-type', 'server_type'],
  ])('%s -> %s', (key, expected) => {
    expect(closestKey(key, known)).toBe(expected);
  });

  it('maps the README typo inactive_interval_sec although it is not a small edit', () => {
    expect(
      closestKey('inactive_interval_sec', [
        'cluster_uri',
        'heartbeat_interval_sec',
        'inactive_timeout_sec',
      ]),
    ).toBe('inactive_timeout_sec');
  });

  it('suggests nothing for an unrelated key', () => {
    expect(closestKey('banana', known)).toBeUndefined();
  });
});
