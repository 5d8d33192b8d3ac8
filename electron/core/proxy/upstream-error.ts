// How an upstream call failed; decides retry and ejection (reliability.md items 1-7). Layer: core.

export type UpstreamFailureKind =
  /** Connection refused / unreachable: the request never reached the worker. Safe to retry elsewhere. */
  | 'connect'
  /** Socket reset or closed before any response byte. */
  | 'reset'
  /** A phase timeout fired. */
  | 'timeout'
  /** We aborted (client went away or shutdown). */
  | 'aborted'
  /** The response started but the connection broke before its end. */
  | 'truncated'
  /**
   * The worker's bytes are not a valid HTTP/1.1 response (bad framing, conflicting lengths, Content-Length
   * with Transfer-Encoding). The connection is closed; the request is not retried: the worker answered.
   */
  | 'protocol';

export class UpstreamError extends Error {
  constructor(
    readonly kind: UpstreamFailureKind,
    message: string,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}
