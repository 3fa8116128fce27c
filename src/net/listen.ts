/** Binding servers to their ports. */
import type { AddressInfo, Server } from 'node:net';

/**
 * Listens (admin or data plane) and resolves with the bound port; a bind error rejects. With `reusePort`, every worker
 * process binds its own socket to the same port (SO_REUSEPORT) and the kernel spreads new connections across them —
 * no primary process in the path (`exclusive` keeps node:cluster from routing the bind through the primary).
 */
export async function listenOn(server: Server, port: number, host: string, reusePort = false): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, ...(reusePort ? { reusePort: true, exclusive: true } : {}) }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}
