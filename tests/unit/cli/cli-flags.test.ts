// splitFlag: `--flag=value` tokens against plain flags and short options.
import { describe, expect, it } from 'vitest';

import { splitFlag } from '../../../electron/cli/cli-flags';

describe('splitFlag', () => {
  it.each([
    ['--port=8000', '--port', '8000'],
    ['--api-key=a=b', '--api-key', 'a=b'],
    ['--static=', '--static', ''],
    ['--port', '--port', undefined],
    ['-c', '-c', undefined],
    ['-c=x', '-c=x', undefined],
    ['--=x', '--', 'x'],
  ])('%s -> %s %s', (token, flag, value) => {
    expect(splitFlag(token)).toEqual({ flag, value });
  });
});
