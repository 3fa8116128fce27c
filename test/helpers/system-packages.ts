/**
 * Tests that use a real peer from a system package (scripts/system-packages.txt) call this at load: when the package
 * is missing the file fails once, with the command that installs it, instead of skipping silently. `npm test`
 * installs or names them before any test runs (its pretest step), so this is reached only by running a file directly.
 */
import { installCommand, present, systemPackages } from '../../scripts/system-packages.ts';

export function requireSystemPackages(...names: string[]): void {
  const known = systemPackages();
  const wanted = names.map((name) => {
    const pkg = known.find((p) => p.name === name);
    if (!pkg) throw new Error(`${name} is not listed in scripts/system-packages.txt`);
    return pkg;
  });
  const missing = wanted.filter((p) => !present(p));
  if (missing.length > 0)
    throw new Error(
      `missing system packages: ${missing.map((p) => p.name).join(', ')}; install them with: ${installCommand(missing, process.getuid?.() !== 0)}`,
    );
}
