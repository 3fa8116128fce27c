/** Starts one of the example Python model servers (examples/servers/*.py) on a free loopback port. */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { call, eventually } from './gateway.ts';
import { unusedPort } from './upstream.ts';

const root = new URL('../..', import.meta.url).pathname;

/** Runs `examples/servers/<script> --port <free port>` with Debian's python3 and waits until its /health answers 200. */
export async function startPythonServer(script: string): Promise<{ proc: ChildProcess; port: number }> {
  const port = await unusedPort();
  const proc = spawn('/usr/bin/python3', [join(root, 'examples/servers', script), '--port', String(port)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await eventually(async () => {
    try {
      return (await call(`http://127.0.0.1:${port}/health`)).status === 200;
    } catch {
      return false;
    }
  }, 30_000);
  return { proc, port };
}
