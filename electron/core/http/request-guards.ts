// The console API's checks on who is asking, before any handler runs (issue #15 item 6): the Host header
// against an allowlist (a DNS-rebinding page arrives with its own name in Host), the Origin of state-changing
// calls (another site's page may POST to 127.0.0.1 even though it cannot read the answer), the per-launch
// token compared in constant time and only from the Authorization header, and static paths that neither name
// dotfiles nor lead through a symlink out of the static root. Layer: core (plain Node).

import { createHash, timingSafeEqual } from 'node:crypto';
import { realpath } from 'node:fs/promises';
import { sep } from 'node:path';

/** Names that always reach a loopback-bound console: what a local browser or an SSH tunnel sends. */
const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];

/**
 * The host names (no port) the console answers to: loopback, the address it listens on when that is a
 * concrete one, and names the user configured (a reverse proxy, a machine name). Lower-case.
 */
export function allowedHostNames(
  listenHost: string,
  configured: readonly string[] = [],
): Set<string> {
  const names = new Set(LOOPBACK_NAMES);
  const listen =
    listenHost.includes(':') && !listenHost.startsWith('[') ? `[${listenHost}]` : listenHost;
  if (listen !== '0.0.0.0' && listen !== '[::]') names.add(listen.toLowerCase());
  for (const name of configured) names.add(name.trim().toLowerCase());
  return names;
}

/**
 * The host name of a Host header value (`name`, `name:port`, `[v6]:port`), lower-case; null when malformed.
 * The port is not checked: an SSH tunnel (`ssh -L 9000:127.0.0.1:<port>`) legitimately changes it, and a
 * rebinding page is recognised by its name alone.
 */
export function hostNameOf(hostHeader: string): string | null {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::(\d{1,5}))?$/.exec(hostHeader.trim());
  return m ? m[1]!.toLowerCase() : null;
}

/** Why `name` cannot be added to the allowed host names (a bare name or [v6] address, no port), or null. */
export function allowedHostProblem(name: string): string | null {
  const parsed = hostNameOf(name);
  if (parsed !== null && parsed === name.trim().toLowerCase()) return null;
  return `${JSON.stringify(name)} is not a host name (write a name such as console.example or 10.0.0.5, without scheme or port)`;
}

/** Why a request's Host is refused, or null when it is one of the allowed names. */
export function hostRefusal(
  hostHeader: string | undefined,
  allowed: ReadonlySet<string>,
): string | null {
  if (hostHeader === undefined || hostHeader === '') return 'the request has no Host header';
  const name = hostNameOf(hostHeader);
  if (name !== null && allowed.has(name)) return null;
  return (
    `Host ${JSON.stringify(hostHeader)} is not a name this console answers to (${[...allowed].join(', ')}); ` +
    'a page that reached it through another name may be a DNS-rebinding attack. ' +
    'To open the console through another name, start it with `--allowed-host NAME`.'
  );
}

/**
 * Why a state-changing request's Origin is refused, or null. No Origin (curl, SDKs, Node) is allowed: a
 * browser always sends one on a cross-origin POST. Otherwise the Origin must be this very server as the
 * browser reached it: `http://` plus the request's Host.
 */
export function originRefusal(
  originHeader: string | undefined,
  hostHeader: string | undefined,
): string | null {
  if (originHeader === undefined) return null;
  if (
    hostHeader !== undefined &&
    originHeader.toLowerCase() === `http://${hostHeader.toLowerCase()}`
  ) {
    return null;
  }
  return `Origin ${JSON.stringify(originHeader)} may not change this console: only its own page (http://${hostHeader ?? '?'}) or a client without an Origin may`;
}

/** The token from `Authorization: Bearer <token>`, or null. The query string is never read (it leaks into logs and history). */
export function bearerToken(authorization: string | undefined): string | null {
  if (typeof authorization !== 'string') return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return m?.[1] ?? null;
}

const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

/** A token check whose time depends on neither the content nor the length of the presented token. */
export function createTokenCheck(expected: string): (given: string | null) => boolean {
  const want = digest(expected);
  return (given) => {
    const got = digest(given ?? '');
    return timingSafeEqual(got, want) && given !== null;
  };
}

/** True when a decoded URL path names a dotfile or dot-folder anywhere (`.env`, `.git/config`). */
export function hasDotSegment(urlPath: string): boolean {
  return urlPath.split('/').some((seg) => seg.startsWith('.') && seg.length > 0);
}

/**
 * The real path of `file` when it lies inside `realRoot` (itself a real path), else null: a symlink inside
 * the static folder must not serve files from elsewhere. Missing files are null too.
 */
export async function realPathInside(realRoot: string, file: string): Promise<string | null> {
  const real = await realpath(file).catch(() => null);
  if (real === null) return null;
  return real === realRoot || real.startsWith(realRoot + sep) ? real : null;
}
