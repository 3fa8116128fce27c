/**
 * The /config view of the admin listener: the snapshot in effect, every status and the last rejected change. What
 * only the gateway may hold is shown by where it came from: API keys by their count, TLS keys and CAs by their
 * Secret, Redis credentials by their Secret; published documents by what was decided about them. The runtime passes
 * the result through its redactor as well.
 */
import type { Snapshot } from '../snapshot/types.ts';

export function configView(
  snapshot: Snapshot | undefined,
  statuses: Record<string, unknown>,
  lastError: unknown,
): unknown {
  const redis = snapshot?.gateway.redis;
  // Redis credentials are shown by the Secret they come from, never their values.
  const gatewayView = snapshot && {
    ...snapshot.gateway,
    ...(redis
      ? {
          redis: {
            ...redis,
            ...(redis.auth
              ? {
                  auth: {
                    source: redis.auth.source,
                  },
                }
              : {}),
            ...(redis.tls
              ? {
                  tls: {
                    ...(redis.tls.caSource ? { ca: redis.tls.caSource } : {}),
                    ...(redis.tls.serverName ? { serverName: redis.tls.serverName } : {}),
                  },
                }
              : {}),
          },
        }
      : {}),
  };
  return {
    // The published documents are served by the portal; here only what was decided about them.
    snapshot: snapshot
      ? {
          ...snapshot,
          // Key hashes stay inside the gateway: /config shows how many keys each provider has.
          routes: snapshot.routes.map((r) =>
            r.action.type === 'Forward' && r.action.auth
              ? {
                  ...r,
                  action: {
                    ...r.action,
                    auth: {
                      ...r.action.auth,
                      providers: r.action.auth.providers.map((p) =>
                        p.kind === 'apiKey' ? { ...p, keys: `${Object.keys(p.keys).length} key(s)` } : p,
                      ),
                    },
                  },
                }
              : r,
          ),
          // Private keys never leave the gateway: certificates are shown by where they came from and when they end.
          gateway: snapshot.gateway.tls
            ? {
                ...gatewayView,
                tls: {
                  ...snapshot.gateway.tls,
                  certificates: snapshot.gateway.tls.certificates.map((c) => ({
                    source: c.source,
                    names: c.names,
                    notAfter: new Date(c.notAfterMs).toISOString(),
                  })),
                  ...(snapshot.gateway.tls.clientAuth
                    ? { clientAuth: { mode: snapshot.gateway.tls.clientAuth.mode } }
                    : {}),
                },
              }
            : gatewayView,
          clusters: Object.fromEntries(
            Object.entries(snapshot.clusters).map(([name, c]) => [
              name,
              c.tls
                ? {
                    ...c,
                    tls: {
                      ...(c.tls.serverName ? { serverName: c.tls.serverName } : {}),
                      customCA: c.tls.caPem !== undefined,
                      clientCertificate: c.tls.certPem !== undefined,
                    },
                  }
                : c,
            ]),
          ),
          docs: {
            pathPrefix: snapshot.docs.pathPrefix,
            tasks: snapshot.docs.tasks.map(({ kind, key }) => ({ kind, key })),
            apis: snapshot.docs.apis.map((a) => ({
              ref: a.ref,
              documented: a.documented,
              versions: a.versions.map((v) => ({ name: v.name, source: v.source })),
            })),
          },
        }
      : null,
    statuses,
    lastRejectedChange: lastError ?? null,
  };
}
