/**
 * The file watcher against every way a configuration file gets saved, with the safety poll switched off: a change
 * that goes live here went live through the watcher's own events, not by waiting for the poll. Each save style is
 * repeated, because the first save of a kind can work where later ones do not (Node's recursive watch lost a file
 * for good after its first rename-over save). Half-done saves are never applied.
 */
import assert from 'node:assert/strict';
import {
  closeSync,
  ftruncateSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  renameSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../../src/observability/logger.ts';
import { FileGateway } from '../../src/runtime/file-gateway.ts';
import { call, eventually, modelApiYaml } from '../helpers/gateway.ts';
import { delay } from '../helpers/transport.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

/** A ModelAPI whose weight-0 second version names `tag`: /config shows which save is live. */
const api = (name: string, url: string, tag: string) =>
  modelApiYaml(name, 'openapi', [
    { name: 'v1', url, weight: 100 },
    { name: tag, url, weight: 0 },
  ]);

async function start(dir: string): Promise<FileGateway> {
  const gateway = new FileGateway({
    configDir: dir,
    port: 0,
    host: '127.0.0.1',
    adminPort: 0,
    adminHost: '127.0.0.1',
    logger: createLogger('silent'),
    // No safety poll: only the watcher's events can bring a change in.
    watch: { debounceMs: 20, pollMs: 0 },
  });
  await gateway.start();
  return gateway;
}

/** The version tags the gateway serves for `name` right now. */
function tags(gateway: FileGateway, name: string): string[] {
  const a = gateway.dataPlane.current?.apis.find((x) => x.name === name);
  return a ? a.versions.map((v) => v.name) : [];
}

describe('the watcher brings every save style in', () => {
  let up: TestUpstream;
  let dir: string;
  let gateway: FileGateway;
  before(async () => {
    up = await startUpstream('up');
    dir = mkdtempSync(join(tmpdir(), 'modelgate-watch-'));
    writeFileSync(join(dir, 'm.yaml'), api('m', up.origin, 'v0'));
    mkdirSync(join(dir, 'team'));
    gateway = await start(dir);
  });
  after(async () => {
    await gateway.stop(100);
    await up.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const live = (tag: string, name = 'm') => eventually(() => tags(gateway, name).includes(tag), 3000);

  it('in-place writes, again and again', async () => {
    for (const tag of ['a1', 'a2', 'a3']) {
      writeFileSync(join(dir, 'm.yaml'), api('m', up.origin, tag));
      await live(tag);
    }
  });

  it('rename-over saves (write a temporary file, rename it over), again and again', async () => {
    for (const tag of ['r1', 'r2', 'r3']) {
      writeFileSync(join(dir, '.m.yaml.swp'), api('m', up.origin, tag));
      renameSync(join(dir, '.m.yaml.swp'), join(dir, 'm.yaml'));
      await live(tag);
    }
    // And an in-place write after them still counts.
    writeFileSync(join(dir, 'm.yaml'), api('m', up.origin, 'after-rename'));
    await live('after-rename');
  });

  it("editors' backup dance: rename the old file away, write the new one, delete the backup", async () => {
    for (const tag of ['b1', 'b2']) {
      renameSync(join(dir, 'm.yaml'), join(dir, 'm.yaml~'));
      writeFileSync(join(dir, 'm.yaml'), api('m', up.origin, tag));
      unlinkSync(join(dir, 'm.yaml~'));
      await live(tag);
    }
  });

  it('files in a directory created after the start, and in a subdirectory', async () => {
    writeFileSync(join(dir, 'team', 't.yaml'), api('t', up.origin, 't1'));
    await live('t1', 't');
    mkdirSync(join(dir, 'late'));
    await delay(50);
    writeFileSync(join(dir, 'late', 'l.yaml'), api('l', up.origin, 'l1'));
    await live('l1', 'l');
    writeFileSync(join(dir, 'late', 'l.yaml'), api('l', up.origin, 'l2'));
    await live('l2', 'l');
  });

  it('truncate-then-write never applies the empty file in between', async () => {
    const path = join(dir, 'm.yaml');
    let sawGone = false;
    const watcher = setInterval(() => {
      if (tags(gateway, 'm').length === 0) sawGone = true;
    }, 2);
    for (const tag of ['w1', 'w2', 'w3']) {
      const fd = openSync(path, 'r+');
      ftruncateSync(fd, 0);
      await delay(15); // a slow writer: the empty file is there for a while, within the settle window
      writeSync(fd, api('m', up.origin, tag));
      closeSync(fd);
      await live(tag);
    }
    clearInterval(watcher);
    assert.equal(sawGone, false, 'the ModelAPI never disappeared while its file was being rewritten');
  });
});

describe('a ConfigMap volume (symlinks swapped by the kubelet)', () => {
  let up: TestUpstream;
  let dir: string;
  let gateway: FileGateway;
  /** Lays out a new data directory and swaps `..data` to it atomically, as the kubelet does. */
  let generation = 0;
  const publish = (files: Record<string, string>) => {
    const data = `..2026_12_02_00_00_0${generation++}`;
    mkdirSync(join(dir, data));
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, data, name), content);
    symlinkSync(data, join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
    for (const name of Object.keys(files)) {
      try {
        symlinkSync(join('..data', name), join(dir, name));
      } catch {
        // already linked
      }
    }
  };
  before(async () => {
    up = await startUpstream('up');
    dir = mkdtempSync(join(tmpdir(), 'modelgate-configmap-'));
    publish({ 'iris.yaml': api('iris', up.origin, 'c0') });
    gateway = await start(dir);
  });
  after(async () => {
    await gateway.stop(100);
    await up.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves the files behind the symlinks, once each', async () => {
    assert.deepEqual(tags(gateway, 'iris'), ['v1', 'c0']);
    assert.equal(gateway.dataPlane.current?.apis.length, 1, 'the hidden data directory is not read a second time');
    assert.equal((await call(`http://127.0.0.1:${gateway.port}/models/iris/x`)).status, 200);
  });

  it('follows each swap of ..data', async () => {
    for (const tag of ['c1', 'c2', 'c3']) {
      publish({ 'iris.yaml': api('iris', up.origin, tag) });
      await eventually(() => tags(gateway, 'iris').includes(tag), 3000);
    }
  });
});
