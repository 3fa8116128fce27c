/**
 * The published documents of a docs plane, merged from its parts on demand: everything public, one per API, one per
 * version. Pure functions of the (immutable) plane; the docs site calls each at most once per snapshot and caches the
 * result, the CLI and the tests call them directly.
 */
import { stringify as toYaml } from 'yaml';
import { type MergeOptions, type MergePart, type MergeReport, mergeDocuments } from '../openapi/merge.ts';
import { sha256 } from '../snapshot/discovery.ts';
import { mergeOrder } from '../snapshot/merge-order.ts';
import type { DocsPlane, PublishedApi } from '../snapshot/types.ts';

type Json = Record<string, unknown>;

function options(plane: DocsPlane, title: string, description: string, api?: PublishedApi): MergeOptions {
  return {
    title,
    // Never empty: readers (and Spectral's `info-description`) expect to be told what the document is.
    description: description || `${title}: the model API operations served by the gateway at ${plane.publicURL}.`,
    ...(api?.upstreamInfo ? { upstreamInfo: api.upstreamInfo as Json } : {}),
    version: '0',
    publicURL: plane.publicURL,
    ...(plane.contact ? { contact: plane.contact as Json } : {}),
    ...(plane.securitySchemes ? { securitySchemes: plane.securitySchemes as Json } : {}),
  };
}

/**
 * Sets `info.version` to the document's content revision (a short hash), so consumers can tell revisions apart. The
 * merge is deterministic (equal inputs give equal key order), so plain JSON is a stable hash input.
 */
function withRevision(document: Json): Json {
  const revision = sha256(JSON.stringify(document)).slice(0, 12);
  return { ...document, info: { ...(document.info as Json), version: revision } };
}

/** What a published document is made of: the parts to merge and the merge settings (plain data, for the worker). */
export interface PublishInput {
  readonly parts: readonly MergePart[];
  readonly options: MergeOptions;
}

/** The input of the merged document, of one API's, or of one version's (undefined for an unknown version). */
export function publishInput(plane: DocsPlane, api?: PublishedApi, version?: string): PublishInput | undefined {
  if (!api) return { parts: mergeOrder(plane), options: options(plane, plane.title, plane.description) };
  if (version === undefined) return { parts: api.parts, options: options(plane, api.title, api.description, api) };
  const v = api.versions.find((x) => x.name === version);
  return v ? { parts: [v.part], options: options(plane, `${api.title} ${v.name}`, '') } : undefined;
}

/** The published document of an input: merged, with its content revision as `info.version`. */
export function publish(input: PublishInput): Json {
  return withRevision(mergeDocuments(input.parts, input.options).document);
}

/** Everything public, merged, with the merge report. */
export function mergedDocument(plane: DocsPlane): { document: Json; report: MergeReport } {
  const merged = mergeDocuments(mergeOrder(plane), options(plane, plane.title, plane.description));
  return { document: withRevision(merged.document), report: merged.report };
}

/** One API's own document: its unversioned paths and every version's. */
export function apiDocument(plane: DocsPlane, api: PublishedApi): Json {
  return withRevision(mergeDocuments(api.parts, options(plane, api.title, api.description, api)).document);
}

/** One version's document, or undefined for an unknown version. */
export function versionDocument(plane: DocsPlane, api: PublishedApi, version: string): Json | undefined {
  const v = api.versions.find((x) => x.name === version);
  return v ? withRevision(mergeDocuments([v.part], options(plane, `${api.title} ${v.name}`, '')).document) : undefined;
}

/**
 * Merges a published document and renders it as text: a job of the document worker (runtime/document-worker.ts). The
 * input is posted as it is: the structured clone keeps shared subtrees shared (the parts of one API share their
 * components), where JSON would write them out each time.
 */
export interface PublishJob {
  readonly op: 'publish';
  readonly input: PublishInput;
  readonly format: 'json' | 'yaml';
}

export type PublishOutcome =
  | { readonly ok: true; readonly body: unknown }
  | { readonly ok: false; readonly error: string };

/** Where documents are rendered off the event loop (the runtime's document worker). */
export interface PublishRunner {
  run(job: PublishJob): Promise<PublishOutcome>;
}

/** Runs a publish job (in the worker). */
export function runPublishJob(job: PublishJob): PublishOutcome {
  const document = publish(job.input);
  const text = job.format === 'json' ? JSON.stringify(document) : toYaml(document, { aliasDuplicateObjects: false });
  return { ok: true, body: text };
}
