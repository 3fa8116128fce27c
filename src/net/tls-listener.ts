/**
 * The HTTPS listener: TLS termination in front of the same data plane, HTTP/2 and HTTP/1.1 by ALPN, certificates
 * chosen by SNI, optional client certificates. Certificates are swapped on every snapshot without a restart: new
 * handshakes use the new contexts, open connections keep theirs, so nothing is dropped. A snapshot whose certificates
 * are all unusable (expired, not yet valid) leaves the last good ones in place; what was refused is reported.
 */
import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http';
import {
  createSecureServer,
  type Http2SecureServer,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import type { TlsCertificate, TlsSettings } from '../snapshot/types.ts';
import { listenOn } from './listen.ts';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** What applying TLS settings gave. */
export interface TlsApplyResult {
  /** Certificates serving now. */
  readonly loaded: number;
  /** Certificates refused at this time (expired, not yet valid, rejected by OpenSSL). */
  readonly problems: readonly string[];
  /** True when nothing new was usable and the previous certificates were kept. */
  readonly keptPrevious: boolean;
}

interface Loaded {
  readonly cert: TlsCertificate;
  readonly names: readonly string[];
  readonly context: SecureContext;
}

/** The HTTPS listener of one gateway process. */
export class TlsListener {
  readonly #handler: Handler;
  #server: Http2SecureServer | HttpsServer | undefined;
  #contexts: Loaded[] = [];
  readonly #sockets = new Set<Socket>();
  readonly #onCreate: ((server: HttpServer) => void) | undefined;

  /** @param onCreate called once with the server when it is created (the data plane puts its limits on it). */
  constructor(handler: Handler, onCreate?: (server: HttpServer) => void) {
    this.#handler = handler;
    this.#onCreate = onCreate;
  }

  /** Loads the certificates and client-auth settings of a snapshot (the first call also decides HTTP/2). */
  apply(settings: TlsSettings, now = Date.now()): TlsApplyResult {
    const problems: string[] = [];
    const next: Loaded[] = [];
    for (const c of settings.certificates) {
      if (now >= c.notAfterMs) {
        problems.push(`${c.source}: expired on ${new Date(c.notAfterMs).toISOString()}`);
        continue;
      }
      if (now < c.notBeforeMs) {
        problems.push(`${c.source}: not valid before ${new Date(c.notBeforeMs).toISOString()}`);
        continue;
      }
      try {
        next.push({ cert: c, names: c.names, context: this.#context(c, settings) });
      } catch (err) {
        problems.push(`${c.source}: ${(err as Error).message}`);
      }
    }
    const keptPrevious = next.length === 0 && this.#contexts.length > 0;
    if (!keptPrevious) this.#contexts = next;
    if (!this.#server) this.#server = this.#create(settings);
    const server = this.#server as unknown as { requestCert: boolean; rejectUnauthorized: boolean };
    // Read per connection by Node's TLS server: new handshakes follow, open connections are not touched.
    server.requestCert = settings.clientAuth !== undefined;
    server.rejectUnauthorized = settings.clientAuth?.mode === 'Require';
    // The default context (clients without SNI) is the first certificate in use — a kept one when nothing new loaded.
    const first = this.#contexts[0];
    if (first) this.#server.setSecureContext(this.#options(settings, first.cert));
    return { loaded: this.#contexts.length, problems, keptPrevious };
  }

  /** Starts listening; resolves with the bound port. */
  listen(port: number, host: string, reusePort = false): Promise<number> {
    if (!this.#server) throw new Error('the HTTPS listener has no TLS settings yet');
    return listenOn(this.#server, port, host, reusePort);
  }

  /** Stops accepting and ends every connection after `drainMs`. */
  async close(drainMs: number): Promise<void> {
    const server = this.#server;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    setTimeout(() => {
      for (const s of this.#sockets) s.destroy();
    }, drainMs).unref();
    await closed;
  }

  #create(settings: TlsSettings): Http2SecureServer | HttpsServer {
    const options = {
      ...this.#options(settings, this.#contexts[0]?.cert),
      SNICallback: (servername: string, cb: (err: Error | null, ctx?: SecureContext) => void) =>
        cb(null, this.#contextFor(servername)),
    };
    const handler = this.#handler as unknown as (req: Http2ServerRequest, res: Http2ServerResponse) => void;
    const server = settings.http2
      ? createSecureServer({ ...options, allowHTTP1: true }, handler)
      : createHttpsServer({ ...options, connectionsCheckingInterval: 1_000 }, this.#handler);
    server.on('secureConnection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    // A handshake that fails (no certificate for the name, a refused client certificate) is the client's problem.
    server.on('tlsClientError', () => {});
    // HTTP/1.1 connections (also those an HTTP/2 server takes with allowHTTP1) run on Node's HTTP/1 machinery, which
    // reads its limits and emits its events on this server object.
    this.#onCreate?.(server as unknown as HttpServer);
    return server;
  }

  #options(settings: TlsSettings, cert: TlsCertificate | undefined) {
    return {
      minVersion: settings.minVersion,
      ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}),
      ...(settings.clientAuth?.caPem ? { ca: settings.clientAuth.caPem } : {}),
      // Forward secrecy and AEAD ciphers only (TLS 1.3 suites are always AEAD); no renegotiation, no compression.
      ciphers:
        'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305',
      honorCipherOrder: true,
    };
  }

  #context(c: TlsCertificate, settings: TlsSettings): SecureContext {
    return createSecureContext(this.#options(settings, c));
  }

  /** The context whose names match `servername` (exact, then wildcard), else the default one. */
  #contextFor(servername: string): SecureContext | undefined {
    const name = servername.toLowerCase();
    const exact = this.#contexts.find((l) => l.names.includes(name));
    if (exact) return exact.context;
    const dot = name.indexOf('.');
    const wildcard = dot > 0 ? `*${name.slice(dot)}` : undefined;
    return (wildcard && this.#contexts.find((l) => l.names.includes(wildcard))?.context) || this.#contexts[0]?.context;
  }
}
