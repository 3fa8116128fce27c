/** Response taps of several policies on one forward. */
import type { ResponseTap } from './forward.ts';

type TapFactory = (status: number, headers: Readonly<Record<string, string | string[]>>) => ResponseTap | undefined;

/** Several taps in a row: each sees what the one before passes on (the cache stores what the client gets). */
export function combineTaps(taps: readonly TapFactory[]): TapFactory {
  if (taps.length === 1) return taps[0]!;
  return (status, headers) => {
    const active = taps.map((t) => t(status, headers)).filter((t): t is ResponseTap => t !== undefined);
    if (active.length <= 1) return active[0];
    return {
      rewrites: active.some((t) => t.rewrites),
      data: (chunk) => active.reduce((c, t) => (c.length > 0 ? t.data(c) : c), chunk),
      end: () => {
        let trailing: Buffer | undefined;
        for (const t of active) {
          const passed = trailing && trailing.length > 0 ? t.data(trailing) : undefined;
          const own = t.end();
          trailing = passed && own ? Buffer.concat([passed, own]) : (passed ?? own);
        }
        return trailing;
      },
      abort: () => {
        for (const t of active) t.abort();
      },
    };
  };
}
