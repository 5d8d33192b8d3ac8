// Key and value formats of disagg_cluster and metadata-mode membership (trtllm-protocol.md 7.1, 7.2).
import { describe, expect, it } from 'vitest';

import {
  decodeMetadataInfo,
  decodeWorkerInfo,
  encodeMetadataInfo,
  encodeWorkerInfo,
  firstTwoSegments,
  localIsoTimestamp,
  makeMetadataKey,
  makeWorkerId,
  metadataMatchesRole,
  roleNameOf,
  roleNumber,
  workerKey,
  workersPrefix,
} from '../../../../shared/logic/disagg-cluster-keys';

describe('disagg_cluster keys', () => {
  it.each([
    ['test_cluster', '/trtllm-disagg/test_cluster/workers'],
    ['', '/trtllm-disagg//workers'],
  ])('workersPrefix(%j) = %s', (name, prefix) => {
    expect(workersPrefix(name)).toBe(prefix);
  });

  it.each([
    [7, '007'],
    [42, '042'],
    [999, '999'],
    [0, '000'],
  ])('makeWorkerId pads rand %i to %s', (rand, padded) => {
    expect(makeWorkerId('CONTEXT', 'localhost', 8001, 1729700000000, 12345, rand)).toBe(
      `CONTEXT-localhost:8001-1729700000000-12345-${padded}`,
    );
  });

  it('workerKey joins the prefix and the worker id', () => {
    const id = makeWorkerId('GENERATION', '10.0.0.2', 9000, 1, 2, 3);
    expect(workerKey('c1', id)).toBe('/trtllm-disagg/c1/workers/GENERATION-10.0.0.2:9000-1-2-003');
  });

  it.each([
    ['CONTEXT', 0],
    ['GENERATION', 1],
  ] as const)('role %s is %i and back', (name, num) => {
    expect(roleNumber(name)).toBe(num);
    expect(roleNameOf(num)).toBe(name);
  });

  it('roleNameOf rejects MM_ENCODER and unknown numbers', () => {
    expect(roleNameOf(2)).toBeNull();
    expect(roleNameOf(7)).toBeNull();
  });

  it('encodeWorkerInfo writes upstream field order and an int role', () => {
    const text = encodeWorkerInfo({ worker_id: 'w', host: 'h', port: 1, role: 1 });
    expect(text).toBe('{"worker_id":"w","host":"h","port":1,"role":1}');
    expect(decodeWorkerInfo(text)).toEqual({ worker_id: 'w', host: 'h', port: 1, role: 1 });
  });

  it('decodeWorkerInfo ignores extra fields and fills dataclass defaults', () => {
    expect(decodeWorkerInfo('{"worker_id":"w","host":"h","port":5,"role":0,"extra":[1]}')).toEqual({
      worker_id: 'w',
      host: 'h',
      port: 5,
      role: 0,
    });
    expect(decodeWorkerInfo('{"worker_id":"w"}')).toEqual({
      worker_id: 'w',
      host: '',
      port: 0,
      role: 0,
    });
  });

  it.each([
    ['not json', 'x'],
    ['array', '[1]'],
    ['no worker_id', '{"host":"h","port":1,"role":0}'],
    ['string port', '{"worker_id":"w","host":"h","port":"1","role":0}'],
    ['fractional role', '{"worker_id":"w","host":"h","port":1,"role":0.5}'],
    ['port out of range', '{"worker_id":"w","host":"h","port":70000,"role":0}'],
  ])('decodeWorkerInfo rejects %s', (_label, text) => {
    expect(decodeWorkerInfo(text)).toBeNull();
  });
});

describe('metadata-mode keys', () => {
  it('makeMetadataKey is trtllm/<hostname>-<pid>-<ms>', () => {
    expect(makeMetadataKey('node1', 4242, 1729700000123)).toBe('trtllm/node1-4242-1729700000123');
  });

  it('encodes and decodes the worker value', () => {
    const info = {
      model: 'TinyLlama',
      version: '1.1.0',
      timestamp: '2025-10-23T12:00:00.000000',
      server_role: 'CONTEXT',
      url: 'http://localhost:8001',
    };
    const text = encodeMetadataInfo(info);
    expect(JSON.parse(text)).toEqual(info);
    const decoded = decodeMetadataInfo(text);
    expect(decoded).toMatchObject(info);
    expect(decoded && metadataMatchesRole(decoded, 'context')).toBe(true);
    expect(decoded && metadataMatchesRole(decoded, 'generation')).toBe(false);
  });

  it('matches the role from server_type too, case-insensitively', () => {
    const decoded = decodeMetadataInfo('{"url":"http://h:1","server_type":"Generation"}');
    expect(decoded && metadataMatchesRole(decoded, 'generation')).toBe(true);
  });

  it.each([['{}'], ['{"url":""}'], ['{"url":5}'], ['nope'], ['null']])(
    'decodeMetadataInfo(%s) is null',
    (text) => {
      expect(decodeMetadataInfo(text)).toBeNull();
    },
  );

  it.each([
    ['trtllm/abc', 'trtllm/abc'],
    ['trtllm/abc/def/ghi', 'trtllm/abc'],
    ['trtllm', 'trtllm'],
    ['/trtllm-disagg/x/workers', '/trtllm-disagg'],
  ])('firstTwoSegments(%s) = %s', (key, reduced) => {
    expect(firstTwoSegments(key)).toBe(reduced);
  });

  it.each([
    [Date.UTC(2025, 9, 23, 10, 4, 5, 67), 0, '2025-10-23T10:04:05.067000'],
    [Date.UTC(2025, 9, 23, 23, 30, 0, 0), 120, '2025-10-24T01:30:00.000000'],
    [Date.UTC(2025, 0, 1, 2, 0, 0, 999), -300, '2024-12-31T21:00:00.999000'],
  ])('localIsoTimestamp(%i, %i) = %s', (ms, offset, text) => {
    expect(localIsoTimestamp(ms, offset)).toBe(text);
  });
});
