// The text exposition format (Prometheus "Exposition formats", text format 0.0.4), held to the spec's example.
import { describe, expect, it } from 'vitest';

import {
  parsePrometheusText,
  PromParseError,
  sampleValue,
} from '../../../../shared/logic/prometheus-text';

// The example of the format's documentation, comments and escapes included.
const SPEC_EXAMPLE = `# HELP http_requests_total The total number of HTTP requests.
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400"}    3 1395066363000

# Escaping in label values:
msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9

# Minimalistic line:
metric_without_timestamp_and_labels 12.47

# A weird metric from before the epoch:
something_weird{problem="division by zero"} +Inf -3982045

# A histogram, which has a pretty complex representation in the text format:
# HELP http_request_duration_seconds A histogram of the request duration.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320
`;

describe('parsePrometheusText', () => {
  it('reads the format documentation example', () => {
    const t = parsePrometheusText(SPEC_EXAMPLE);
    expect(t.types).toEqual({
      http_requests_total: 'counter',
      http_request_duration_seconds: 'histogram',
    });
    expect(t.samples).toHaveLength(9);
    expect(t.samples[0]).toEqual({
      name: 'http_requests_total',
      labels: { method: 'post', code: '200' },
      value: 1027,
    });
    expect(t.samples[2]).toEqual({
      name: 'msdos_file_access_time_seconds',
      labels: { path: 'C:\\DIR\\FILE.TXT', error: 'Cannot find file:\n"FILE.TXT"' },
      value: 1.458255915e9,
    });
    expect(sampleValue(t, 'metric_without_timestamp_and_labels')).toBe(12.47);
    expect(sampleValue(t, 'something_weird')).toBe(Number.POSITIVE_INFINITY);
    expect(t.samples.find((s) => s.labels.le === '+Inf')?.value).toBe(144320);
    expect(sampleValue(t, 'absent')).toBeNull();
  });

  it('reads NaN and a trailing comma in the label set', () => {
    const t = parsePrometheusText('a{x="1",} NaN\n');
    expect(t.samples[0]?.labels).toEqual({ x: '1' });
    expect(t.samples[0]?.value).toBeNaN();
  });

  it.each([
    ['1abc 1', /line 1: invalid metric name/],
    ['a{x=1} 1', /line 1: expected =".*" after label x/],
    ['a{x="1} 1', /line 1: unterminated value of label x/],
    ['ok 1\na one', /line 2: invalid sample value "one"/],
    ['a', /line 1: expected a value/],
  ])('%j is refused, naming the line', (text, message) => {
    expect(() => parsePrometheusText(text)).toThrow(PromParseError);
    expect(() => parsePrometheusText(text)).toThrow(message);
  });
});
