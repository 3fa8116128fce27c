/** The admin listener: liveness, readiness, Prometheus metrics and the current configuration with statuses. */
import { createServer, type Server } from 'node:http';
import type { GatewayMetrics } from '../observability/metrics.ts';

/** What the admin endpoints read from the running gateway. */
export interface AdminView {
  ready(): boolean;
  /** The JSON served at /config (secrets already redacted). */
  config(): unknown;
}

/** Creates the admin server (not yet listening). */
export function createAdminServer(view: AdminView, metrics: GatewayMetrics): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, {
        'content-type': type,
        'cache-control': 'no-store',
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(405, 'text/plain', 'method not allowed\n');
      return;
    }
    switch (path) {
      case '/healthz':
        send(200, 'text/plain', 'ok\n');
        return;
      case '/readyz':
        if (view.ready()) send(200, 'text/plain', 'ready\n');
        else send(503, 'text/plain', 'not ready\n');
        return;
      case '/metrics':
        metrics.registry.metrics().then(
          (text) => send(200, metrics.registry.contentType, text),
          (err: Error) => send(500, 'text/plain', `${err.message}\n`),
        );
        return;
      case '/config':
        send(200, 'application/json', `${JSON.stringify(view.config(), null, 2)}\n`);
        return;
      default:
        send(404, 'text/plain', 'not found: try /healthz, /readyz, /metrics, /config\n');
    }
  });
}
