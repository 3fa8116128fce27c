/**
 * What a protocol is to the gateway: everything that differs between Open Inference V2, KServe V1, OpenAI-compatible
 * and plain REST APIs, in one definition per protocol (src/protocols/<name>/index.ts), listed in table.ts. The compiler
 * asks the table and knows no protocol by name:
 *  - public routes of a version and their upstream rewrite (public paths hide the upstream model name, so a version
 *    can move to another server or model name without consumers noticing);
 *  - the default active health probe;
 *  - whether a non-idempotent request may be retried;
 *  - how model metadata is discovered and read, and the document synthesized from it (or the generic one);
 *  - how an upstream's own document maps onto the public paths (the inverse of the rewrite);
 *  - what request validation checks beyond the schema.
 * Pure data and functions: the compiler (and its docs pass) and the validation policy use it.
 */
import type { Protocol } from '../schema/model-api.ts';
import type { PathRewrite, RouteMatch } from '../snapshot/types.ts';
import type { MLRunModelMetadata } from './mlrun/document.ts';
import type { V2ModelMetadata } from './open-inference-v2/schema.ts';

type Json = Record<string, unknown>;

/** The model identity on the upstream. */
export interface UpstreamModel {
  readonly modelName: string;
  readonly modelVersion?: string | undefined;
}

/** One public route of a version: how to match it, and how to rewrite its path for the upstream. */
export interface ProtocolRoute {
  readonly match: RouteMatch;
  readonly rewrite: PathRewrite;
}

/** What a metadata answer yields for the document. */
export interface ModelDescription {
  readonly metadata?: V2ModelMetadata;
  /** MLRun model metadata (its features). */
  readonly mlrun?: MLRunModelMetadata;
  readonly models?: readonly string[];
}

/** Model metadata discovery: where the protocol describes a model, and how the answer is read. */
export interface MetadataDiscovery {
  readonly kind: 'v2-metadata' | 'mlrun-metadata' | 'openai-models';
  /** The upstream path asked (GET). */
  path(model: UpstreamModel): string;
  /** What the answer says; an error when it is empty or malformed (then the generic document is used). */
  read(body: unknown): { ok: true; value: ModelDescription } | { ok: false; error: string };
  /** A second answer that refines the first, for servers that have one. */
  readonly supplement?: MetadataSupplement;
}

/**
 * A second answer refining model metadata (Triton's model configuration: the bound of the batch dimension), asked
 * only when the first answer says it can matter. Missing or failing, the first answer is used alone.
 */
export interface MetadataSupplement {
  readonly kind: 'v2-config';
  /** The upstream path asked (GET). */
  path(model: UpstreamModel): string;
  wanted(description: ModelDescription): boolean;
  merge(description: ModelDescription, body: unknown): ModelDescription;
}

/** How a version's upstream paths relate to its public base path. */
export interface PathMapping {
  readonly protocol: Protocol;
  readonly modelName: string;
  readonly modelVersion?: string | undefined;
  /** Public base path of the part being documented (`/models/iris` or `/models/iris/versions/v2`). */
  readonly basePath: string;
}

/** A mapped path and the path-parameter names it fixed. */
export interface PublicPath {
  readonly path: string;
  readonly fixedParams: readonly string[];
}

/** What a synthesized document is about. */
export interface SynthesisInput extends ModelDescription {
  readonly title: string;
  readonly version: string;
  readonly basePath: string;
  /** The optional endpoints to document (OPTIONAL_ENDPOINTS in the schema: declared, else the protocol's default). */
  readonly endpoints: readonly string[];
}

/** One problem found in a request body (or a parameter: `<in>:<name>`). */
export interface BodyViolation {
  /** JSON pointer into the body (`/inputs/0/datatype`), or `<in>:<name>` for a parameter. */
  readonly pointer: string;
  readonly message: string;
}

/** Checks of a parsed JSON body that its schema cannot express. */
export type BodyRules = (body: unknown) => BodyViolation[];

/** One protocol. */
export interface ProtocolDefinition {
  readonly name: Protocol;
  /** Its group in the portal and the merged document's tags. */
  readonly group: string;
  /** Public routes under `prefix` for one model, with their upstream rewrites. */
  routes(prefix: string, model: UpstreamModel): ProtocolRoute[];
  /** The path an active health check probes by default; undefined when the protocol has none. */
  readyPath(model: UpstreamModel): string | undefined;
  /** Whether its answers report token usage the gateway meters (metrics, access log, traces, token budgets). */
  readonly metersTokens: boolean;
  /** Whether a non-idempotent request (a POST) may be retried: inference calls are stateless; generation is not cheap. */
  readonly retriesNonIdempotent: boolean;
  /**
   * Where discovery looks for the upstream's own OpenAPI document when no path is configured, in order: the first
   * that answers a document wins, before model metadata (an upstream's own document says what it serves).
   */
  readonly discoveredDocumentPaths?: readonly string[];
  /** Model metadata discovery, for protocols that have it. */
  readonly metadata?: MetadataDiscovery;
  /** The document synthesized from metadata, or the generic one when there is none. */
  synthesize(input: SynthesisInput): Json;
  /** Whether the generic document describes the API (true) or says nothing (plain REST: no description). */
  readonly genericDescribes: boolean;
  /** The public path of an upstream path (rebasing the upstream's own document); undefined when not routed. */
  publicPath(mapping: PathMapping, upstreamPath: string): PublicPath | undefined;
  /**
   * Request validation beyond the published schema, per documented operation (`method` lower-case, the document's
   * path): the rules, or undefined when there are none. Run by the validation policy in the data plane.
   */
  bodyRules?(method: string, documentPath: string): BodyRules | undefined;
}
