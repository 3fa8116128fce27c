/**
 * Generates CustomResourceDefinitions from the TypeBox schemas, so the CRD, the TypeScript types and the file-mode
 * validator can never disagree. The output must be a *structural* schema: explicit types everywhere, no `$ref`,
 * no `additionalProperties: false` (the API server prunes unknown fields instead), no `const`.
 */
import type { TSchema } from '@sinclair/typebox';
import { SECRET_KEYWORD } from './common.ts';
import { GROUP, type KindInfo, VERSION } from './kinds.ts';

type Json = Record<string, unknown>;

/** Converts one TypeBox/JSON schema node into its structural CRD form. */
export function toStructural(schema: Json): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(schema)) {
    // SECRET_KEYWORD marks fields for redaction; an API server refuses unknown keywords in a CRD schema.
    if (key === '$id' || key === '$schema' || key === 'contentEncoding' || key === SECRET_KEYWORD) continue;
    if (key === 'additionalProperties' && typeof value === 'boolean') continue;
    if (key === 'const') {
      out.enum = [value];
      continue;
    }
    if (key === 'properties') {
      out.properties = Object.fromEntries(Object.entries(value as Json).map(([k, v]) => [k, toStructural(v as Json)]));
      continue;
    }
    if (key === 'items' || (key === 'additionalProperties' && typeof value === 'object')) {
      out[key] = toStructural(value as Json);
      continue;
    }
    if (key === 'patternProperties') {
      // TypeBox records: the API server wants additionalProperties instead.
      const [inner] = Object.values(value as Json);
      out.additionalProperties = toStructural(inner as Json);
      continue;
    }
    out[key] = value;
  }
  if (out['x-kubernetes-int-or-string'] === true) delete out.type;
  return out;
}

/** Builds the CustomResourceDefinition object for one of modelgate's own kinds. */
export function buildCrd(info: KindInfo): Json {
  const crd = info.crd;
  if (!crd) throw new Error(`${info.kind} is not a custom resource`);
  const schema = toStructural(info.schema as TSchema as Json);
  const properties = schema.properties as Json;
  // apiVersion/kind/metadata are validated by the API server itself.
  properties.apiVersion = { type: 'string' };
  properties.kind = { type: 'string' };
  properties.metadata = { type: 'object' };
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${crd.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      names: {
        kind: info.kind,
        listKind: `${info.kind}List`,
        plural: crd.plural,
        singular: crd.singular,
        shortNames: [...crd.shortNames],
        categories: [...crd.categories],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: crd.printerColumns.map((c) => ({ ...c })),
          schema: { openAPIV3Schema: { ...schema, required: ['spec'] } },
        },
      ],
    },
  };
}
