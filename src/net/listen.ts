/** Binding servers to their ports. */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens (admin or data plane) and resolves with the bound port; a bind error rejects. */
export async function listenOn(server: Server, port: number, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return (server.address() as AddressInfo).port;
}
