/**
 * The ModelGateway's Redis settings, with the credentials and CA read from the Secrets they name. A Secret that is
 * missing or lacks its key is a problem on the ModelGateway's status; Redis is then used without it (and refuses the
 * connection, which the failure mode handles) rather than not at all. Pure.
 */
import { durationMs } from '../common/durations.ts';
import type { Secret } from '../schema/core.ts';
import type { ModelGateway } from '../schema/model-gateway.ts';
import type { RedisSettings } from '../snapshot/types.ts';
import { findSecret, secretEntry } from './secret-entry.ts';

export interface CompiledRedis {
  readonly settings?: RedisSettings;
  readonly problems: readonly string[];
}

export function compileRedis(gateway: ModelGateway | undefined, secrets: readonly Secret[]): CompiledRedis {
  const redis = gateway?.spec.redis;
  if (!redis) return { problems: [] };
  const namespace = gateway.metadata.namespace ?? 'default';
  const problems: string[] = [];
  const find = (ref: { name: string; namespace?: string | undefined }) => {
    const found = findSecret(secrets, ref, namespace);
    if (!found.secret) problems.push(`redis: ${found.source} not found`);
    return found;
  };
  let auth: RedisSettings['auth'];
  if (redis.auth) {
    const { source, secret } = find(redis.auth);
    const password = secret ? secretEntry(secret, 'password') : undefined;
    if (secret && password === undefined) problems.push(`redis: ${source} has no password`);
    const username = secret ? secretEntry(secret, 'username') : undefined;
    if (password !== undefined) auth = { source, password, ...(username ? { username } : {}) };
  }
  let tls: RedisSettings['tls'];
  if (redis.tls || redis.url.startsWith('rediss://')) {
    let ca: { caPem: string; caSource: string } | undefined;
    if (redis.tls?.caSecret) {
      const { source, secret } = find(redis.tls.caSecret);
      const caPem = secret ? secretEntry(secret, 'ca.crt') : undefined;
      if (secret && caPem === undefined) problems.push(`redis: ${source} has no ca.crt`);
      if (caPem !== undefined) ca = { caPem, caSource: source };
    }
    tls = { ...(ca ?? {}), ...(redis.tls?.serverName ? { serverName: redis.tls.serverName } : {}) };
  }
  return {
    settings: {
      url: redis.url,
      timeoutMs: durationMs(redis.timeout) ?? 50,
      failOpen: redis.failureMode !== 'closed',
      ...(auth ? { auth } : {}),
      ...(tls ? { tls } : {}),
    },
    problems,
  };
}
