import { writeFileSync } from 'node:fs';
import { stringify as toYaml } from 'yaml';
import { apiDocument, mergedDocument, versionDocument } from '../docsplane/published.ts';
import { formatDiagnostic, hasErrors } from '../resources/diagnostics.ts';
import { buildOffline } from '../runtime/offline-build.ts';
import { loadDirectory } from '../sources/load-directory.ts';
import type { Command } from './command.ts';
import { existingDirectory } from './directory-argument.ts';
import { choiceOption, parseVerbArgs, UsageError } from './usage-error.ts';

const usage = `usage: modelgate docs DIR [--out FILE] [--format json|yaml] [--api NAMESPACE/NAME [--version V]] [--fetch]
                      [--public-url URL]

Writes the merged OpenAPI 3.1 document (or one API's, or one version's) the gateway would publish for DIR; offline
unless --fetch lets it ask the backends named in DIR for their documents and metadata. The format follows --out's
extension (.yaml/.yml) unless --format says otherwise.
`;

export const docsCommand: Command = {
  name: 'docs',
  summary: 'writes the OpenAPI document the gateway would publish for a directory',
  usage,
  async run(args) {
    const { values, positionals } = parseVerbArgs(
      args,
      {
        out: { type: 'string', short: 'o' },
        format: { type: 'string' },
        api: { type: 'string' },
        version: { type: 'string' },
        fetch: { type: 'boolean', default: false },
        'public-url': { type: 'string' },
      },
      { names: ['DIR'], required: 1 },
    );
    if (values.help) {
      process.stdout.write(usage);
      return 0;
    }
    const out = values.out as string | undefined;
    const format = choiceOption('format', values.format, ['json', 'yaml'] as const);
    const apiName = values.api as string | undefined;
    const versionName = values.version as string | undefined;
    if (apiName !== undefined && !/^[^/]+\/[^/]+$/.test(apiName))
      throw new UsageError(`--api must be NAMESPACE/NAME, not ${JSON.stringify(apiName)}`);
    if (versionName !== undefined && apiName === undefined) throw new UsageError('--version needs --api');
    const publicURL = values['public-url'] as string | undefined;
    if (publicURL !== undefined && !URL.canParse(publicURL))
      throw new UsageError(`--public-url must be an absolute URL, not ${JSON.stringify(publicURL)}`);

    const load = await loadDirectory(existingDirectory(positionals[0]!, ''));
    for (const d of load.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
    if (hasErrors(load.diagnostics)) return 1;
    const result = await buildOffline(load.resources, {
      fetch: values.fetch === true,
      ...(publicURL ? { publicURL } : {}),
    });
    for (const s of result.statuses) {
      const documented = s.conditions.find((c) => c.type === 'Documented');
      if (documented && documented.status !== 'True')
        process.stderr.write(
          `warning: ${s.ref}: Documented=${documented.status} (${documented.reason}): ${documented.message}\n`,
        );
    }
    const plane = result.snapshot.docs;
    let document: unknown = mergedDocument(plane).document;
    if (apiName) {
      const api = plane.apis.find((a) => `${a.namespace}/${a.name}` === apiName);
      if (!api) {
        process.stderr.write(`modelgate docs: no served ModelAPI ${apiName}\n`);
        return 1;
      }
      document = versionName ? versionDocument(plane, api, versionName) : apiDocument(plane, api);
      if (!document) {
        process.stderr.write(`modelgate docs: ${apiName} has no version ${versionName}\n`);
        return 1;
      }
    }
    const text =
      (format ?? (/\.ya?ml$/.test(out ?? '') ? 'yaml' : 'json')) === 'yaml'
        ? toYaml(document, { aliasDuplicateObjects: false })
        : `${JSON.stringify(document, null, 2)}\n`;
    if (out) writeFileSync(out, text);
    else process.stdout.write(text);
    return 0;
  },
};
