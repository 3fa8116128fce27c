import cluster from 'node:cluster';
import { availableParallelism, hostname } from 'node:os';
import { SecretRedactor } from '../common/secret-redactor.ts';
import { createLogger } from '../observability/logger.ts';
import { FileGateway } from '../runtime/file-gateway.ts';
import type { Command } from './command.ts';
import { existingDirectory } from './directory-argument.ts';
import { parseVerbArgs, portOption, StartError, UsageError } from './usage-error.ts';

const usage = `usage: modelgate serve --config DIR | --kube [--kubeconfig FILE] [--namespaces a,b]
                      [--port 8080] [--host 127.0.0.1] [--admin-port 9901] [--admin-host 127.0.0.1]
                      [--https-port PORT] [--public-url URL] [--workers N|auto] [--controller-name NAME]
                      [--gateway NAMESPACE/NAME] [--state-dir DIR]

Serves the model APIs described in DIR (every YAML/JSON file below it) and reloads on every change; --kube reads the
same resources from the Kubernetes API server instead (in-cluster config, --kubeconfig, KUBECONFIG or
~/.kube/config) and writes their status back. --state-dir keeps the history of published API revisions (the
changelog) across restarts. With several installs in one cluster, --gateway names this install's ModelGateway: it
serves the ModelAPIs whose spec.gatewayRef names it (and those without one when it is the default gateway). Port 0
takes any free port. SIGTERM/SIGINT drain the requests in flight, then exit 0.
`;

type Values = Record<string, string | boolean | undefined>;

export const serveCommand: Command = {
  name: 'serve',
  summary: 'serves model APIs from a configuration directory (file mode) or from Kubernetes (--kube)',
  usage,
  async run(args) {
    const { values } = parseVerbArgs(args, {
      config: { type: 'string', short: 'c' },
      'config-dir': { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'admin-port': { type: 'string' },
      'admin-host': { type: 'string' },
      'public-url': { type: 'string' },
      workers: { type: 'string' },
      'controller-name': { type: 'string' },
      gateway: { type: 'string' },
      'state-dir': { type: 'string' },
      kube: { type: 'boolean' },
      'https-port': { type: 'string' },
      kubeconfig: { type: 'string' },
      namespaces: { type: 'string' },
    });
    if (values.help) {
      process.stdout.write(usage);
      return 0;
    }
    return serve(values);
  },
};

async function serve(values: Values): Promise<number> {
  const configDir = (values.config ?? values['config-dir']) as string | undefined;
  const kube = values.kube === true;
  const port = portOption('port', values.port) ?? 8080;
  const adminPort = portOption('admin-port', values['admin-port']) ?? 9901;
  const httpsPort = portOption('https-port', values['https-port']);
  const host = (values.host as string | undefined) ?? '127.0.0.1';
  const adminHost = (values['admin-host'] as string | undefined) ?? '127.0.0.1';
  const publicURLOption = values['public-url'] as string | undefined;
  if (publicURLOption !== undefined && !URL.canParse(publicURLOption))
    throw new UsageError(`--public-url must be an absolute URL, not ${JSON.stringify(publicURLOption)}`);
  const workersText = (values.workers as string | undefined) ?? '1';
  const workers = workersText === 'auto' ? availableParallelism() : Number(workersText);
  if (!/^(auto|\d+)$/.test(workersText) || !Number.isInteger(workers) || workers < 1)
    throw new UsageError(`--workers must be a positive integer or auto, not ${JSON.stringify(workersText)}`);
  if (!configDir && !kube) throw new UsageError('needs --config DIR or --kube');
  if (configDir && kube) throw new UsageError('--config and --kube are two modes; give one');
  for (const option of ['kubeconfig', 'namespaces'])
    if (values[option] !== undefined && !kube) throw new UsageError(`--${option} applies to --kube only`);
  const gatewayName = values.gateway as string | undefined;
  if (gatewayName !== undefined && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[a-z0-9]([-.a-z0-9]*[a-z0-9])?$/.test(gatewayName))
    throw new UsageError(`--gateway must be NAMESPACE/NAME of a ModelGateway, not ${JSON.stringify(gatewayName)}`);
  if (configDir) existingDirectory(configDir, '--config ');
  if (workers > 1 && cluster.isPrimary) return supervise(workers);

  // One redactor for the logs and the gateway: what the configuration holds as secret never reaches a log line.
  const redactor = new SecretRedactor();
  const logger = createLogger(undefined, redactor);
  const workerIndex = Number(process.env.MODELGATE_WORKER ?? 0);
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const common = {
    port,
    host,
    adminPort,
    adminHost,
    // With an HTTPS listener the documents point "Try it out" there.
    publicURL:
      publicURLOption ??
      (httpsPort !== undefined ? `https://${shownHost}:${httpsPort}` : `http://${shownHost}:${port}`),
    logger,
    redactor,
    // Workers share the port through SO_REUSEPORT; the first one also serves the admin listener.
    reusePort: workers > 1,
    ...(values['controller-name'] ? { controllerName: values['controller-name'] as string } : {}),
    ...(gatewayName ? { gatewayName } : {}),
    ...(values['state-dir'] ? { stateDir: values['state-dir'] as string } : {}),
    ...(httpsPort !== undefined ? { httpsPort } : {}),
    admin: workerIndex === 0,
  };
  let gateway: { start(): Promise<void>; stop(): Promise<void> };
  if (kube) {
    // Loaded only here: the Kubernetes client is a large library (tens of MB of heap) that file mode never needs.
    const [{ KubeConfig }, { KubeGateway }] = await Promise.all([
      import('@kubernetes/client-node'),
      import('../runtime/kube/kube-gateway.ts'),
    ]);
    // In the cluster: the ServiceAccount (in-cluster config); outside: --kubeconfig, KUBECONFIG or ~/.kube/config.
    const kubeConfig = new KubeConfig();
    const file = values.kubeconfig as string | undefined;
    try {
      if (file) kubeConfig.loadFromFile(file);
      else kubeConfig.loadFromDefault();
    } catch (err) {
      const where = file ? `--kubeconfig ${file}` : `the kubeconfig (${process.env.KUBECONFIG ?? '~/.kube/config'})`;
      throw new StartError(`${where}: cannot read it: ${firstLine(err)}`);
    }
    if (!kubeConfig.getCurrentCluster())
      throw new StartError(`${file ? `--kubeconfig ${file}` : 'the kubeconfig'}: its current context names no cluster`);
    const namespace =
      process.env.POD_NAMESPACE ?? kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace ?? 'default';
    gateway = new KubeGateway({
      ...common,
      kubeConfig,
      identity: `${process.env.POD_NAME ?? hostname()}-${workerIndex}`,
      leaseNamespace: namespace,
      // Two installs in one namespace must not share a leader: the Lease is per ModelGateway.
      ...(gatewayName ? { leaseName: `modelgate-leader-${gatewayName.replace('/', '.')}` } : {}),
      ...(values.namespaces
        ? {
            namespaces: String(values.namespaces)
              .split(',')
              .map((n) => n.trim())
              .filter(Boolean),
          }
        : {}),
    });
  } else {
    gateway = new FileGateway({ ...common, configDir: configDir! });
  }
  try {
    await gateway.start();
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
    if (e.syscall === 'listen' || e.code === 'EADDRINUSE' || e.code === 'EACCES' || e.code === 'EADDRNOTAVAIL') {
      const reason =
        e.code === 'EADDRINUSE'
          ? 'the address is in use'
          : e.code === 'EACCES'
            ? 'permission denied'
            : e.code === 'EADDRNOTAVAIL'
              ? 'no such local address'
              : (e.code ?? firstLine(err));
      throw new StartError(`cannot listen on ${e.address ?? host}:${e.port ?? port}: ${reason}`);
    }
    throw err;
  }
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

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
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
