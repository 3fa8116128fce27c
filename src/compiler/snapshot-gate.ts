/**
 * The last check before a snapshot is served: everything the data plane will build from it or write on the wire is
 * legal there — every pattern compiles on the data plane's engine, every cluster a route names exists, every
 * rewritten path and header can be written on a request line or header line, every duration fits a timer. The
 * schema and the compiler already refuse all of this resource by resource; the gate is what makes "no configuration
 * can crash the process" hold even when they miss something, and it names the resource to blame.
 */
import { compileSafeRegex } from '../common/safe-regex.ts';
import type { HeaderModifier, PathRewrite, RouteFilters, RouteRule, Snapshot } from '../snapshot/types.ts';

/** A resource the snapshot cannot be served with, and why. */
export interface GateProblem {
  readonly ref: string;
  readonly message: string;
}

/** The longest delay a JavaScript timer keeps (2^31−1 ms); a longer one fires at once. */
export const MAX_TIMER_MS = 2_147_483_647;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const PATH = /^\/[\x21-\x7e]*$/;
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::[0-9]{1,5})?$/;

/** Problems of a compiled snapshot, by the resource each comes from (empty: it can be served). */
export function snapshotProblems(snapshot: Snapshot): GateProblem[] {
  const problems: GateProblem[] = [];
  const owners = new Map<string, Set<string>>();
  for (const rule of snapshot.routes) {
    const add = (message: string) => problems.push({ ref: rule.source, message: `${rule.id}: ${message}` });
    checkRule(rule, snapshot, add);
    if (rule.action.type === 'Forward')
      for (const b of rule.action.backends) {
        const set = owners.get(b.cluster) ?? new Set<string>();
        owners.set(b.cluster, set);
        set.add(rule.source);
      }
  }
  for (const cluster of Object.values(snapshot.clusters)) {
    const blame = [...(owners.get(cluster.name) ?? ['Cluster'])];
    const add = (message: string) => {
      for (const ref of blame) problems.push({ ref, message: `cluster ${cluster.name}: ${message}` });
    };
    for (const e of cluster.endpoints) {
      let url: URL | undefined;
      try {
        url = new URL(e.origin);
      } catch {
        url = undefined;
      }
      if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password)
        add(`the endpoint ${JSON.stringify(e.origin)} is not an http(s) origin`);
    }
    if (cluster.basePath !== '' && !PATH.test(cluster.basePath))
      add('the base path cannot be written on a request line');
    if (cluster.hostHeader !== undefined && !HOST.test(cluster.hostHeader)) add('the Host header is not a host');
    timer(cluster.connectTimeoutMs, 'connect timeout', add);
    timer(cluster.passiveHealthCheck.ejectionTimeMs * 10, 'ejection time (×10, the longest ejection)', add);
    if (cluster.activeHealthCheck) {
      timer(cluster.activeHealthCheck.intervalMs, 'health-check interval', add);
      timer(cluster.activeHealthCheck.timeoutMs, 'health-check timeout', add);
      if (!PATH.test(cluster.activeHealthCheck.path)) add('the health-check path cannot be written on a request line');
    }
  }
  const gatewayRef = 'ModelGateway';
  const g = snapshot.gateway;
  for (const [field, ms] of Object.entries(g.listener ?? {}))
    if (field.endsWith('Ms'))
      timer(ms, `spec.listener ${field}`, (m) => problems.push({ ref: gatewayRef, message: m }));
  timer(g.drainTimeoutMs, 'drain timeout', (m) => problems.push({ ref: gatewayRef, message: m }));
  return problems;
}

function checkRule(rule: RouteRule, snapshot: Snapshot, add: (message: string) => void): void {
  for (const m of rule.matches) {
    if (m.path.type === 'RegularExpression') pattern(m.path.value, 'path', add);
    for (const h of m.headers ?? []) {
      if (!TOKEN.test(h.name)) add(`the header match name ${JSON.stringify(h.name)} is not a token`);
      if (h.type === 'RegularExpression') pattern(h.value, `header ${h.name}`, add);
    }
    for (const q of m.queryParams ?? []) if (q.type === 'RegularExpression') pattern(q.value, `query ${q.name}`, add);
  }
  const action = rule.action;
  if (action.type !== 'Forward') return;
  timer(action.timeouts.requestMs, 'request timeout', add);
  timer(action.timeouts.backendRequestMs, 'backend request timeout', add);
  timer(action.timeouts.idleMs, 'idle timeout', add);
  timer(action.retry.backoffMs * 2 ** Math.min(action.retry.attempts, 20), 'retry backoff (doubled per attempt)', add);
  filters(action.filters, snapshot, add);
  for (const b of action.backends) {
    if (b.invalid !== undefined || b.redirect !== undefined) continue;
    if (!Object.hasOwn(snapshot.clusters, b.cluster)) add(`the backend cluster ${b.cluster} does not exist`);
    rewrite(b.rewrite, add);
    filters(b.filters, snapshot, add);
  }
}

function filters(f: RouteFilters | undefined, snapshot: Snapshot, add: (message: string) => void): void {
  if (!f) return;
  headers(f.requestHeaders, add);
  headers(f.responseHeaders, add);
  if (f.hostRewrite !== undefined && !HOST.test(f.hostRewrite)) add('the rewritten Host is not a host');
  for (const m of f.mirrors ?? [])
    if (!Object.hasOwn(snapshot.clusters, m.cluster)) add(`the mirror cluster ${m.cluster} does not exist`);
}

function headers(h: HeaderModifier | undefined, add: (message: string) => void): void {
  if (!h) return;
  for (const [name, value] of [...h.set, ...h.add]) {
    if (!TOKEN.test(name)) add(`the header name ${JSON.stringify(name)} is not a token`);
    if (hasControl(value)) add(`the value of header ${name} holds a control character`);
  }
  for (const name of h.remove) if (!TOKEN.test(name)) add(`the header name ${JSON.stringify(name)} is not a token`);
}

/** A control character other than tab: it cannot be in a field value (RFC 9110 §5.5). */
function hasControl(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09) || c === 0x7f) return true;
  }
  return false;
}

function rewrite(r: PathRewrite | undefined, add: (message: string) => void): void {
  if (!r) return;
  const value = r.type === 'ReplaceFullPath' ? r.replaceFullPath : r.replacePrefixMatch;
  if (!PATH.test(value)) add(`the rewritten path ${JSON.stringify(value)} cannot be written on a request line`);
}

function pattern(value: string, what: string, add: (message: string) => void): void {
  const compiled = compileSafeRegex(value);
  if ('error' in compiled) add(`the ${what} pattern does not compile (RE2): ${compiled.error}`);
}

function timer(ms: number, what: string, add: (message: string) => void): void {
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_TIMER_MS)
    add(`the ${what} (${ms} ms) is beyond the longest timer (596h)`);
}
