import { statSync } from 'node:fs';
import { StartError } from './usage-error.ts';

/** A configuration directory named on the command line must be one (a typo is one line, not an empty gateway). */
export function existingDirectory(dir: string, option: string): string {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new StartError(`${option}${dir}: ${code === 'ENOENT' ? 'no such directory' : `cannot read it (${code})`}`);
  }
  if (!isDirectory) throw new StartError(`${option}${dir}: not a directory`);
  return dir;
}
