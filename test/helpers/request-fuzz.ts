/**
 * Differential fuzzing of client requests against nginx: mutations of valid requests (the spellings of paths, broken
 * lines, stray bytes) sent to the gateway and to nginx in front of the same echo upstream. The gateway must answer
 * every one, never forward a request nginx refuses as malformed, and never forward to another path than nginx.
 * Used by test/dataplane/client-requests.test.ts (fixed seed) and `npm run fuzz`.
 */
import { firstAnswer } from './nginx.ts';

const X = '/models/confined/x';
/** Valid requests both answer 200 (the fuzzer's starting points). */
export const REQUEST_SEEDS: readonly string[] = [
  `GET ${X} HTTP/1.1\r\nHost: a\r\n\r\n`,
  `GET ${X} HTTP/1.0\r\n\r\n`,
  `GET http://other.test${X} HTTP/1.1\r\nHost: a\r\n\r\n`,
  `GET ${X}?q=1&r=%2F HTTP/1.1\r\nHost: a.test:8080\r\nAccept: */*\r\n\r\n`,
  `POST ${X} HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Type: application/json\r\n\r\n{ }`,
  `POST ${X} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`,
  `GET ${X} HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`,
  `\r\nGET /models/confined/a/b/c HTTP/1.1\r\nHost: models.example.com\r\nX-Request-Id: abc\r\n\r\n`,
];

/** A request's bytes, readable: every byte outside printable ASCII as \xNN. */
export function show(bytes: string): string {
  return bytes.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Byte-level mutations of a request: what a broken client or an attacker would send. */
export function mutateRequest(rng: () => number, request: string): string {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rng() * items.length)]!;
  let s = request;
  for (let n = rng() < 0.7 ? 1 : 2; n > 0; n--) {
    const at = Math.floor(rng() * (s.length + 1));
    switch (rng() < 0.4 ? Math.floor(rng() * 3) : 3) {
      case 0:
        s =
          s.slice(0, at) +
          pick([
            '\r\n',
            '\n',
            '\r',
            ' ',
            '\t',
            ':',
            '\0',
            'Host: b\r\n',
            'Content-Length: 2\r\n',
            'Transfer-Encoding: chunked\r\n',
            '\x7f',
            '\xff',
          ]) +
          s.slice(at);
        break;
      case 1:
        s = s.slice(0, at) + s.slice(at + 1 + Math.floor(rng() * 4));
        break;
      case 2:
        s = s.slice(0, at) + String.fromCharCode(Math.floor(rng() * 256)) + s.slice(at + 1);
        break;
      default: {
        // Somewhere in the request target: the spellings path handling is about.
        const start = s.indexOf(' ') + 1;
        const end = s.indexOf(' ', start);
        if (start <= 0 || end < 0) break;
        const p = start + Math.floor(rng() * (end - start + 1));
        s =
          s.slice(0, p) +
          pick([
            '%',
            '%2F',
            '%2f',
            '%2e',
            '%2E%2E',
            '/..',
            '/.',
            '//',
            '/./',
            '/../',
            '\\',
            '%5C',
            ';',
            ';x',
            '#',
            '?',
            '%00',
            '%41',
            '..',
            '.',
            '/../..',
            '%zz',
            '%C3%A9',
            '~',
            '%7E',
            '%20',
            '+',
            '&',
            '=',
            '@',
            ':',
          ]) +
          s.slice(p);
      }
    }
  }
  return s;
}

/** What a batch of mutated requests gave. */
export interface RequestComparison {
  problems: string[];
  stricter: string[];
  outcomes: { bothForwarded: number; bothRefused: number; onlyNginxForwarded: number };
}

/** Sends `count` mutations of the seed requests to both and compares. */
export async function compareRequests(
  rng: () => number,
  seeds: readonly string[],
  count: number,
  gatewayPort: number,
  nginxPort: number,
): Promise<RequestComparison> {
  const result: RequestComparison = {
    problems: [],
    stricter: [],
    outcomes: { bothForwarded: 0, bothRefused: 0, onlyNginxForwarded: 0 },
  };
  for (let i = 0; i < count; i++) {
    const bytes = mutateRequest(rng, seeds[Math.floor(rng() * seeds.length)]!);
    const [ours, theirs] = await Promise.all([
      firstAnswer(gatewayPort, bytes, 1500),
      firstAnswer(nginxPort, bytes, 1500),
    ]);
    // A head that never ends is answered when the head timeout expires (nginx may answer a bad line before that).
    const headEnds = /\r?\n\r?\n/.test(bytes);
    if (ours.status === 0 && theirs.status !== 0 && headEnds) result.problems.push(`no answer: ${show(bytes)}`);
    // Node drops tabs around a field value (RFC 9110 optional whitespace); nginx keeps them, and refuses a Host or a
    // Content-Length with one (the table has both rows).
    const tabbedHost = /\r\n(?:Host|Content-Length):[^\r\n]*\t/i.test(bytes);
    if (
      ours.path !== undefined &&
      theirs.path === undefined &&
      theirs.status >= 400 &&
      theirs.status < 500 &&
      !tabbedHost
    )
      result.problems.push(`forwarded what nginx refused (${theirs.status}): ${show(bytes)}`);
    // A raw backslash goes on as %5C (the path table's row on it); otherwise the paths must be the same.
    const samePath = (a: string, b: string) => a.replaceAll('\\', '%5C') === b.replaceAll('\\', '%5C');
    if (ours.path !== undefined && theirs.path !== undefined && !samePath(ours.path, theirs.path))
      result.problems.push(`forwarded to ${ours.path}, nginx to ${theirs.path}: ${show(bytes)}`);
    if (ours.path !== undefined && theirs.path !== undefined) result.outcomes.bothForwarded++;
    else if (ours.path === undefined && theirs.path === undefined) result.outcomes.bothRefused++;
    else if (theirs.path !== undefined) {
      result.outcomes.onlyNginxForwarded++;
      result.stricter.push(`${ours.status} where nginx forwarded: ${show(bytes)}`);
    }
  }
  return result;
}
