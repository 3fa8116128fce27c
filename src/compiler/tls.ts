/**
 * The TLS settings of the HTTPS listener, from the ModelGateway and its Secrets. Every certificate is parsed and
 * checked against its key here; one that cannot be used is reported (the listener keeps what it has). Validity dates
 * are carried along and judged by the listener at the time it loads them: the compiler has no clock. Pure.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { durationMs } from '../common/durations.ts';
import type { Secret } from '../schema/core.ts';
import type { ModelGateway } from '../schema/model-gateway.ts';
import type { TlsCertificate, TlsSettings } from '../snapshot/types.ts';
import { secretEntry } from './secret-entry.ts';

/** What the TLS pass gives: settings (when TLS is configured) and problems for the ModelGateway's status. */
export interface CompiledTls {
  readonly settings?: TlsSettings;
  readonly problems: readonly string[];
}

/** Compiles `spec.tls` of the ModelGateway. */
export function compileTls(gateway: ModelGateway | undefined, secrets: readonly Secret[]): CompiledTls {
  const tls = gateway?.spec.tls;
  if (!tls) return { problems: [] };
  const namespace = gateway.metadata.namespace ?? 'default';
  const problems: string[] = [];
  const find = (ref: { name: string; namespace?: string | undefined }) => {
    const ns = ref.namespace ?? namespace;
    return {
      ns,
      secret: secrets.find((s) => s.metadata.name === ref.name && (s.metadata.namespace ?? 'default') === ns),
    };
  };
  const certificates: TlsCertificate[] = [];
  for (const ref of tls.certificates) {
    const { ns, secret } = find(ref);
    const source = `Secret/${ns}/${ref.name}`;
    if (!secret) {
      problems.push(`${source} not found`);
      continue;
    }
    const certPem = secretEntry(secret, 'tls.crt');
    const keyPem = secretEntry(secret, 'tls.key');
    if (!certPem || !keyPem) {
      problems.push(`${source} has no tls.crt and tls.key`);
      continue;
    }
    try {
      const cert = new X509Certificate(certPem);
      if (!cert.checkPrivateKey(createPrivateKey(keyPem))) {
        problems.push(`${source}: the key does not match the certificate`);
        continue;
      }
      certificates.push({
        source,
        certPem,
        keyPem,
        names: dnsNames(cert),
        notAfterMs: Date.parse(cert.validTo),
        notBeforeMs: Date.parse(cert.validFrom),
      });
    } catch (err) {
      problems.push(`${source}: unreadable certificate or key (${(err as Error).message})`);
    }
  }
  let clientAuth: TlsSettings['clientAuth'];
  if (tls.clientAuth) {
    const { ns, secret } = find(tls.clientAuth.caSecret);
    const caPem = secret ? secretEntry(secret, 'ca.crt') : undefined;
    if (!caPem)
      problems.push(`Secret/${ns}/${tls.clientAuth.caSecret.name} with ca.crt for client certificates not found`);
    // Without its CA, client authentication fails closed: nothing verifies, so Require refuses everyone.
    clientAuth = { mode: tls.clientAuth.mode, caPem: caPem ?? '' };
  }
  const hstsMs = tls.hsts ? durationMs(tls.hsts.maxAge) : undefined;
  return {
    settings: {
      certificates,
      minVersion: tls.minVersion ?? 'TLSv1.2',
      http2: tls.http2 !== false,
      ...(clientAuth ? { clientAuth } : {}),
      ...(hstsMs !== undefined
        ? { hsts: `max-age=${Math.round(hstsMs / 1000)}${tls.hsts?.includeSubDomains ? '; includeSubDomains' : ''}` }
        : {}),
      redirectHTTP: tls.redirectHTTP === true,
    },
    problems,
  };
}

/** DNS names of the certificate: its subjectAltName DNS entries, else its CN. */
function dnsNames(cert: X509Certificate): string[] {
  const san = (cert.subjectAltName ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('DNS:'))
    .map((s) => s.slice(4).toLowerCase());
  if (san.length > 0) return san;
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject)?.[1];
  return cn ? [cn.toLowerCase()] : [];
}
