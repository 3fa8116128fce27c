/**
 * The system packages the tests need (scripts/system-packages.txt), checked before `npm test` runs anything.
 *
 *   node scripts/system-packages.ts           check; install what is missing with apt-get when root, else exit 1
 *                                             at once with the exact command to run
 *   node scripts/system-packages.ts --check   only check (exit 1 with the command when something is missing)
 *
 * Probes look at what the tests use (a binary, a Python module), not at the package database, so a machine that has
 * the tools some other way passes too.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface SystemPackage {
  readonly name: string;
  readonly probe: string;
  readonly purpose: string;
}

// SYSTEM_PACKAGES_LIST points elsewhere only for the script's own test (a list with a package that is not there).
const LIST = process.env.SYSTEM_PACKAGES_LIST ?? fileURLToPath(new URL('./system-packages.txt', import.meta.url));

export function systemPackages(): SystemPackage[] {
  const out: SystemPackage[] = [];
  for (const line of readFileSync(LIST, 'utf8').split('\n')) {
    const text = line.trim();
    if (!text || text.startsWith('#')) continue;
    const [name, probe, ...purpose] = text.split(/\s+/);
    out.push({ name: name!, probe: probe!, purpose: purpose.join(' ') });
  }
  return out;
}

/** Whether what the package provides is usable here. */
export function present(pkg: SystemPackage): boolean {
  const [kind, target] = [pkg.probe.slice(0, pkg.probe.indexOf(':')), pkg.probe.slice(pkg.probe.indexOf(':') + 1)];
  if (kind === 'file') return existsSync(target);
  if (kind === 'python')
    return existsSync('/usr/bin/python3') && spawnSync('/usr/bin/python3', ['-c', `import ${target}`]).status === 0;
  throw new Error(`scripts/system-packages.txt: ${pkg.name}: unknown probe ${pkg.probe}`);
}

export function missingPackages(): SystemPackage[] {
  return systemPackages().filter((p) => !present(p));
}

/** The one command that installs `packages` on Debian/Ubuntu. */
export function installCommand(packages: readonly SystemPackage[], sudo = true): string {
  const names = packages.map((p) => p.name).join(' ');
  return `${sudo ? 'sudo ' : ''}apt-get update && ${sudo ? 'sudo ' : ''}apt-get install -y --no-install-recommends ${names}`;
}

function main(): number {
  const checkOnly = process.argv.includes('--check');
  let missing = missingPackages();
  if (missing.length === 0) return 0;
  const list = missing.map((p) => `  ${p.name}: ${p.purpose}`).join('\n');
  const isRoot = process.getuid?.() === 0;
  const hasApt = existsSync('/usr/bin/apt-get');
  if (checkOnly || !isRoot || !hasApt) {
    const how = hasApt
      ? `run:\n\n  ${installCommand(missing, !isRoot)}\n`
      : 'this is not a Debian/Ubuntu machine (no apt-get): install the equivalents of the packages above.';
    process.stderr.write(`The tests need system packages that are missing here:\n${list}\n\nTo install them, ${how}\n`);
    return 1;
  }
  process.stderr.write(`installing the system packages the tests need:\n${list}\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', '--no-install-recommends', ...missing.map((p) => p.name)],
  ]) {
    const run = spawnSync('apt-get', args, { env, stdio: ['ignore', 'ignore', 'inherit'] });
    if (run.status !== 0) {
      process.stderr.write(`apt-get ${args.join(' ')} failed (exit ${run.status ?? run.signal})\n`);
      return 1;
    }
  }
  missing = missingPackages();
  if (missing.length > 0) {
    process.stderr.write(`still missing after apt-get install: ${missing.map((p) => p.name).join(', ')}\n`);
    return 1;
  }
  return 0;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = main();
