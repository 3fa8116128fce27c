/**
 * What a traffic policy is at request time: a phase that looks at the request (and, for body phases, its body) and
 * either lets it go on or answers it. The order of the phases is declared once, in request-phases.ts; the data plane
 * runs that table and knows no policy by name.
 *
 * Verdicts are small integers rather than strings or objects: a phase runs on every request of every rule that has
 * the policy, and the runner only compares them.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessRecord } from '../dataplane/access-log.ts';
import type { Fallback, ForwardRequest } from '../dataplane/forward.ts';
import type { MatchResult } from '../dataplane/matcher.ts';
import type { RuntimeSnapshot } from '../dataplane/runtime-snapshot.ts';
import type { RequestTrace } from '../dataplane/tracing/tracing.ts';
import type { ErrorName } from '../errors/catalog.ts';
import type { GatewayMetrics } from '../observability/metrics.ts';
import type { RouteAction, RouteRule } from '../snapshot/types.ts';
import type { Identity, JwksCache } from './auth/authenticate.ts';
import type { ResponseCache } from './cache/response-cache.ts';
import type { Usage } from './metering/usage.ts';
import type { GlobalRateLimiter } from './rate-limit/global-limiter.ts';
import type { RateLimiter } from './rate-limit/limiter.ts';

/** The request goes on to the next phase. */
export const NEXT = 0;
/** The phase answered the request itself (a CORS preflight, a cached answer): not a rejection. */
export const ANSWERED = 1;
/** The phase refused the request and answered it (401, 403, 429, 400…): counted as a policy rejection. */
export const REJECTED = 2;
export type Verdict = typeof NEXT | typeof ANSWERED | typeof REJECTED;

/** A rule's action when it forwards (the only kind that has policies). */
export type ForwardAction = Extract<RouteAction, { type: 'Forward' }>;

/** The shared state the phases use: built once per data plane, outliving snapshots. */
export interface PolicyServices {
  readonly metrics: GatewayMetrics;
  readonly jwks: JwksCache;
  readonly rateLimiter: RateLimiter;
  /** Set when the ModelGateway configures Redis. */
  readonly globalLimiter: GlobalRateLimiter | undefined;
  readonly cache: ResponseCache;
}

/**
 * One request on its way through the phases: one object per request, every field present from the start (one shape
 * for the engine), the phases filling in `identity` and `deferredHeaders`.
 */
export interface PolicyContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly started: number;
  readonly requestId: string;
  /** Answers with a problem+json of the catalog (and counts the request). */
  readonly fail: (name: ErrorName, detail: string, extensions?: Record<string, unknown>) => void;
  readonly path: string;
  readonly query: string;
  readonly hasQuery: boolean;
  readonly runtime: RuntimeSnapshot;
  readonly rule: RouteRule;
  readonly action: ForwardAction;
  readonly result: MatchResult;
  /** A request header's value (repeated ones joined), as matching and the body phases read it. */
  readonly header: (name: string) => string | undefined;
  /** Who the request was authenticated as (the auth phase sets it). */
  identity: Identity | undefined;
  /**
   * Response headers a phase decided on (RateLimit) but did not set yet: a forwarded answer carries them in its
   * header list; any other answer sets them first. Setting them on the response early would send every proxied
   * answer through Node's slower header merge in writeHead.
   */
  deferredHeaders: readonly string[] | undefined;
  /** The request's access-log record, when the access log is on (phases add what they learn: tokens). */
  readonly access: AccessRecord | undefined;
  /** The request's spans, when tracing is on. */
  readonly trace: RequestTrace | undefined;
  /** The body, when it was read before routing (the OpenAI endpoint read it to find the model); else it streams. */
  readonly body: Buffer | undefined;
  /** The OpenAI endpoint routed an alias here: the answer's `model` goes back to the alias. */
  readonly modelAlias?: { readonly upstream: string; readonly alias: string } | undefined;
  /** The OpenAI endpoint's model for this request (answered in `x-modelgate-model`) and where it falls back to. */
  readonly model?:
    | { readonly id: string; readonly fallback: Fallback | undefined; readonly contentType?: string }
    | undefined;
}

/** A phase before the body is read: address lists, CORS, authentication, rate limit. */
export interface RequestPhase {
  /** The `policy` label of policy rejections, and the name in the docs. */
  readonly name: string;
  applies(action: ForwardAction): boolean;
  /** A promise when the phase must wait (an issuer's keys, Redis); the request is counted in flight meanwhile. */
  run(ctx: PolicyContext, services: PolicyServices): Verdict | Promise<Verdict>;
}

/** The request body as the body phases see and change it. */
export interface BodyExchange {
  /** The forward being prepared (method, headers, what ends the exchange). */
  readonly send: ForwardRequest;
  /** The version that serves the request ('' for a route without versions). */
  readonly version: string;
  /** The body as the client sent it. */
  readonly original: Buffer;
  /** The body that goes upstream (a phase may rewrite it). */
  body: Buffer;
  readonly contentType: string | undefined;
  /** Observers of the answer (token usage, the cache), in phase order. */
  readonly taps: NonNullable<ForwardRequest['tap']>[];
  /** Told the usage the model reports, once it has (metering calls them: the token budget spends). */
  readonly usageListeners: ((usage: Usage) => void)[];
}

/** A phase that needs the whole body: validation, token budget, cache. */
export interface BodyPhase {
  readonly name: string;
  applies(action: ForwardAction): boolean;
  run(ctx: PolicyContext, exchange: BodyExchange, services: PolicyServices): Verdict | Promise<Verdict>;
}
