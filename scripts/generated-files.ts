/** Every generated file of the repository and its content, keyed by repository-relative path. */
import { stringify } from 'yaml';
import { rulesMarkdown } from '../src/changes/format.ts';
import { renderErrorCatalog } from '../src/errors/catalog.ts';
import { buildCrd } from '../src/schema/crd.ts';
import { GROUP, KINDS } from '../src/schema/kinds.ts';
import { renderReference } from '../src/schema/reference.ts';

const HEADER = '# Generated from src/schema by `npm run generate`; do not edit.\n';

/** Path → content of each generated file. */
export function generatedFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const kind of KINDS.filter((k) => k.crd)) {
    files[`deploy/crds/${GROUP}_${kind.crd!.plural}.yaml`] = HEADER + stringify(buildCrd(kind), { lineWidth: 0 });
  }
  files['docs/reference.md'] = renderReference();
  files['docs/errors.md'] = renderErrorCatalog();
  files['docs/changes.md'] = rulesMarkdown();
  return files;
}
