/**
 * The ModelGateway's tracing settings, with the export headers read from the Secret they name. A missing Secret is a
 * problem on the ModelGateway's status; spans are then exported without those headers (the collector says whether it
 * takes them). Pure.
 */
import type { Secret } from '../schema/core.ts';
import type { ModelGateway } from '../schema/model-gateway.ts';
import type { TracingSettings } from '../snapshot/types.ts';
import { findSecret, secretEntry } from './secret-entry.ts';

export function compileTracing(
  gateway: ModelGateway | undefined,
  secrets: readonly Secret[],
): { readonly settings?: TracingSettings; readonly problems: readonly string[] } {
  const t = gateway?.spec.tracing;
  if (!t) return { problems: [] };
  const problems: string[] = [];
  const headers: Record<string, string> = {};
  if (t.headersSecret) {
    const { source, secret } = findSecret(secrets, t.headersSecret, gateway.metadata.namespace ?? 'default');
    if (!secret) problems.push(`tracing: ${source} not found`);
    else
      for (const key of new Set([...Object.keys(secret.data ?? {}), ...Object.keys(secret.stringData ?? {})])) {
        const value = secretEntry(secret, key);
        if (value !== undefined) headers[key.toLowerCase()] = value;
      }
  }
  return {
    settings: {
      otlpEndpoint: t.otlpEndpoint,
      samplingRatio: t.samplingRatio ?? 1,
      serviceName: t.serviceName ?? 'modelgate',
      protocol: t.protocol ?? 'http/protobuf',
      headers,
    },
    problems,
  };
}
