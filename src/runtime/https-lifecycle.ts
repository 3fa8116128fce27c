/**
 * The HTTPS listener over the life of the gateway: created with the first TLS settings a snapshot brings, listening
 * once the gateway has started, given every later snapshot's certificates (a refused set keeps the previous one), and
 * what it could not load said as the ModelGateway's `TLSServing` condition.
 */
import type { DataPlane } from '../dataplane/data-plane.ts';
import { TlsListener } from '../net/tls-listener.ts';
import type { Logger } from '../observability/logger.ts';
import { type ConditionInput, condition } from '../resources/status.ts';
import type { Snapshot } from '../snapshot/types.ts';

export class HttpsLifecycle {
  /** The bound port, once listening (0 before). */
  port = 0;
  readonly #dataPlane: DataPlane;
  readonly #listen: { readonly port: number; readonly host: string; readonly reusePort: boolean };
  readonly #log: Logger;
  #tls: TlsListener | undefined;
  #listening: Promise<void> | undefined;
  #started = false;

  constructor(dataPlane: DataPlane, listen: HttpsLifecycle['listenOn'], log: Logger) {
    this.#dataPlane = dataPlane;
    this.#listen = listen;
    this.#log = log;
  }

  /** Where it listens. */
  get listenOn(): { readonly port: number; readonly host: string; readonly reusePort: boolean } {
    return this.#listen;
  }

  /** Takes a snapshot's TLS settings; the `TLSServing` condition to report, or undefined without TLS settings. */
  apply(snapshot: Snapshot): ConditionInput | undefined {
    const settings = snapshot.gateway.tls;
    if (!settings) return undefined;
    this.#tls ??= new TlsListener(
      (req, res) => this.#dataPlane.handle(req, res),
      (server) => this.#dataPlane.attach(server),
    );
    const result = this.#tls.apply(settings);
    for (const p of result.problems) this.#log.warn({ problem: p }, 'TLS certificate not used');
    if (this.#started) void this.start();
    if (result.loaded === 0)
      return condition('TLSServing', 'False', 'NoUsableCertificate', result.problems.join('; ') || 'no certificate');
    if (result.keptPrevious)
      return condition(
        'TLSServing',
        'False',
        'KeptPrevious',
        `new certificates refused, the previous ones serve: ${result.problems.join('; ')}`,
      );
    return result.problems.length > 0
      ? condition('TLSServing', 'False', 'SomeCertificatesRefused', result.problems.join('; '))
      : condition('TLSServing', 'True', 'Serving', `${result.loaded} certificate(s) serving`);
  }

  /** Listens (once certificates were given; later settings start it then). */
  async start(): Promise<void> {
    this.#started = true;
    if (!this.#tls) return;
    this.#listening ??= this.#tls.listen(this.#listen.port, this.#listen.host, this.#listen.reusePort).then((port) => {
      this.port = port;
      this.#dataPlane.httpsPort = port;
      this.#log.info({ httpsPort: port }, 'HTTPS listener serving');
    });
    await this.#listening;
  }

  async close(drainMs: number): Promise<void> {
    await this.#tls?.close(drainMs);
  }
}
