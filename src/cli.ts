#!/usr/bin/env -S node --max-semi-space-size=16 --heap-growing-percent=30
/** The modelgate command line: `serve` (file mode), `validate`, `docs` and `diff`. */
import cluster from 'node:cluster';
import { writeFileSync } from 'node:fs';
import { availableParallelism, hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { stringify as toYaml } from 'yaml';
import { diffDocuments } from './changes/diff.ts';
import { type ChangeFormat, formatChanges } from './changes/format.ts';
import { loadDocument } from './changes/load-document.ts';
import { atLeast, type ChangeLevel } from './changes/rules.ts';
import { buildOffline } from './docs/offline-build.ts';
import { apiDocument, mergedDocument, versionDocument } from './docs/published.ts';
import { createLogger } from './observability/logger.ts';
import { formatDiagnostic, hasErrors } from './resources/diagnostics.ts';
import { checkConfiguration } from './runtime/check-configuration.ts';
import { FileGateway } from './runtime/file-gateway.ts';
import { loadDirectory } from './sources/load-directory.ts';

const USAGE = `usage:
  modelgate serve --config DIR | --kube [--kubeconfig FILE] [--namespaces a,b] [--port 8080] [--host 127.0.0.1] [--admin-port 9901] [--admin-host 127.0.0.1]
                  [--public-url URL] [--workers N|auto] [--controller-name NAME] [--state-dir DIR] [--https-port PORT]
  modelgate validate DIR [--strict]
  modelgate docs DIR [--out FILE] [--format json|yaml] [--api NAMESPACE/NAME [--version V]] [--fetch]
                 [--public-url URL]
  modelgate diff OLD NEW [--format text|json|markdown] [--fail-on breaking|potentially-breaking|any]

serve     reads every YAML/JSON file under DIR, serves it, and reloads on every change; --state-dir keeps the
          history of published API revisions (the changelog) across restarts. --kube reads the same resources from
          the Kubernetes API server instead (in-cluster config or a kubeconfig) and writes their status back
validate  decides as serve does and prints its diagnostics: exit 1 for anything serve would refuse (--strict: for
          warnings too, such as kinds modelgate does not read)
docs      writes the merged OpenAPI 3.1 document (or one API's, or one version's) the gateway would publish;
          offline unless --fetch lets it ask the backends named in DIR for their documents and metadata
diff      compares two OpenAPI documents (files or URLs, JSON or YAML, 3.x or Swagger 2.0) operation by operation;
          exit 0 when nothing at or above --fail-on changed, 1 when something did, 2 when a document cannot be read
          (rules: docs/changes.md)
`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve(rest);
    case 'validate':
      return validate(rest);
    case 'docs':
      return docs(rest);
    case 'diff':
      return diff(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`unknown command ${command}\n${USAGE}`);
      return 2;
  }
}

async function serve(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: 'string', short: 'c' },
      'config-dir': { type: 'string' },
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
      'admin-port': { type: 'string', default: '9901' },
      'admin-host': { type: 'string', default: '127.0.0.1' },
      'public-url': { type: 'string' },
      workers: { type: 'string', default: '1' },
      'controller-name': { type: 'string' },
      'state-dir': { type: 'string' },
      kube: { type: 'boolean', default: false },
      'https-port': { type: 'string' },
      kubeconfig: { type: 'string' },
      namespaces: { type: 'string' },
    },
  });
  const configDir = values.config ?? values['config-dir'];
  const workers = values.workers === 'auto' ? availableParallelism() : Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1) {
    process.stderr.write(`--workers must be a positive integer or auto\n${USAGE}`);
    return 2;
  }
  if (workers > 1 && cluster.isPrimary) return supervise(workers);
  if (!configDir && !values.kube) {
    process.stderr.write(`serve needs --config DIR or --kube\n${USAGE}`);
    return 2;
  }
  const logger = createLogger();
  const port = Number(values.port);
  const workerIndex = Number(process.env.MODELGATE_WORKER ?? 0);
  const common = {
    port,
    host: values.host,
    adminPort: Number(values['admin-port']),
    adminHost: values['admin-host'],
    // With an HTTPS listener the documents point "Try it out" there.
    publicURL:
      values['public-url'] ??
      (values['https-port'] !== undefined
        ? `https://${values.host === '0.0.0.0' ? '127.0.0.1' : values.host}:${values['https-port']}`
        : `http://${values.host === '0.0.0.0' ? '127.0.0.1' : values.host}:${port}`),
    logger,
    // Workers share the port through SO_REUSEPORT; the first one also serves the admin listener.
    reusePort: workers > 1,
    ...(values['controller-name'] ? { controllerName: values['controller-name'] } : {}),
    ...(values['state-dir'] ? { stateDir: values['state-dir'] } : {}),
    ...(values['https-port'] !== undefined ? { httpsPort: Number(values['https-port']) } : {}),
    admin: workerIndex === 0,
  };
  let gateway: { start(): Promise<void>; stop(): Promise<void> };
  if (values.kube) {
    // Loaded only here: the Kubernetes client is a large library (tens of MB of heap) that file mode never needs.
    const [{ KubeConfig }, { KubeGateway }] = await Promise.all([
      import('@kubernetes/client-node'),
      import('./kube/kube-gateway.ts'),
    ]);
    // In the cluster: the ServiceAccount (in-cluster config); outside: --kubeconfig, KUBECONFIG or ~/.kube/config.
    const kubeConfig = new KubeConfig();
    if (values.kubeconfig) kubeConfig.loadFromFile(values.kubeconfig);
    else kubeConfig.loadFromDefault();
    const namespace =
      process.env.POD_NAMESPACE ?? kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace ?? 'default';
    gateway = new KubeGateway({
      ...common,
      kubeConfig,
      identity: `${process.env.POD_NAME ?? hostname()}-${workerIndex}`,
      leaseNamespace: namespace,
      ...(values.namespaces
        ? {
            namespaces: values.namespaces
              .split(',')
              .map((n) => n.trim())
              .filter(Boolean),
          }
        : {}),
    });
  } else {
    gateway = new FileGateway({ ...common, configDir: configDir! });
  }
  await gateway.start();
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'draining in-flight requests, then exiting');
    gateway.stop().then(
      () => process.exit(0),
      (err: Error) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  return new Promise<number>(() => {}); // runs until a signal
}

/**
 * The primary of a multi-worker gateway: forks the workers (each a complete gateway on the same port), restarts one
 * that dies, and on SIGTERM/SIGINT passes the signal on and exits when all have drained.
 */
function supervise(workers: number): Promise<number> {
  const logger = createLogger();
  let stopping = false;
  const fork = (index: number) => {
    const worker = cluster.fork({ MODELGATE_WORKER: String(index) });
    worker.on('exit', (code, signal) => {
      if (stopping) return;
      logger.error({ worker: index, code, signal }, 'worker died; starting another');
      setTimeout(() => fork(index), 1000).unref();
    });
  };
  for (let i = 0; i < workers; i++) fork(i);
  logger.info({ workers }, 'modelgate primary: workers started');
  return new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(signal);
      const check = setInterval(() => {
        if (Object.keys(cluster.workers ?? {}).length === 0) {
          clearInterval(check);
          resolve(0);
        }
      }, 50);
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}

async function validate(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { strict: { type: 'boolean' } } });
  const [dir] = positionals;
  if (!dir) {
    process.stderr.write(`validate needs a directory\n${USAGE}`);
    return 2;
  }
  const verdict = checkConfiguration(await loadDirectory(dir), { strict: values.strict === true });
  for (const d of verdict.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
  const errors = verdict.diagnostics.filter((d) => d.severity === 'error').length;
  if (errors > 0) {
    process.stderr.write(`${errors} error(s)\n`);
    return 1;
  }
  const warnings = verdict.diagnostics.length;
  process.stdout.write(
    `${dir}: ${verdict.servedApis} ModelAPI(s) valid${warnings > 0 ? `, ${warnings} warning(s)` : ''}\n`,
  );
  return 0;
}

async function docs(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      out: { type: 'string', short: 'o' },
      format: { type: 'string' },
      api: { type: 'string' },
      version: { type: 'string' },
      fetch: { type: 'boolean', default: false },
      'public-url': { type: 'string' },
    },
  });
  const [dir] = positionals;
  if (!dir) {
    process.stderr.write(`docs needs a directory\n${USAGE}`);
    return 2;
  }
  const load = await loadDirectory(dir);
  for (const d of load.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
  if (hasErrors(load.diagnostics)) return 1;
  const result = await buildOffline(load.resources, {
    fetch: values.fetch,
    ...(values['public-url'] ? { publicURL: values['public-url'] } : {}),
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
  if (values.api) {
    const api = result.snapshot.docs.apis.find((a) => `${a.namespace}/${a.name}` === values.api);
    if (!api) {
      process.stderr.write(`no served ModelAPI ${values.api}\n`);
      return 1;
    }
    document = values.version ? versionDocument(plane, api, values.version) : apiDocument(plane, api);
    if (!document) {
      process.stderr.write(`${values.api} has no version ${values.version}\n`);
      return 1;
    }
  }
  const format = values.format ?? (/\.ya?ml$/.test(values.out ?? '') ? 'yaml' : 'json');
  const text =
    format === 'yaml' ? toYaml(document, { aliasDuplicateObjects: false }) : `${JSON.stringify(document, null, 2)}\n`;
  if (values.out) writeFileSync(values.out, text);
  else process.stdout.write(text);
  return 0;
}

async function diff(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { format: { type: 'string', default: 'text' }, 'fail-on': { type: 'string' } },
  });
  const [before, after] = positionals;
  const format = values.format as ChangeFormat;
  const failOn = values['fail-on'];
  if (
    !before ||
    !after ||
    positionals.length > 2 ||
    !['text', 'json', 'markdown'].includes(format) ||
    (failOn !== undefined && !['breaking', 'potentially-breaking', 'non-breaking', 'any'].includes(failOn))
  ) {
    process.stderr.write(`diff needs OLD and NEW, a known --format and --fail-on\n${USAGE}`);
    return 2;
  }
  let documents: [Record<string, unknown>, Record<string, unknown>];
  try {
    documents = await Promise.all([loadDocument(before), loadDocument(after)]);
  } catch (err) {
    process.stderr.write(`modelgate diff: ${(err as Error).message}\n`);
    return 2;
  }
  const changes = diffDocuments(...documents);
  process.stdout.write(formatChanges(changes, format));
  if (failOn === undefined) return 0;
  const threshold: ChangeLevel = failOn === 'any' ? 'non-breaking' : (failOn as ChangeLevel);
  return changes.some((c) => atLeast(c.level, threshold)) ? 1 : 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0 || process.argv[2] !== 'serve') process.exitCode = code;
  },
  (err: Error) => {
    process.stderr.write(`modelgate: ${err.stack ?? err.message}\n`);
    process.exit(1);
  },
);
