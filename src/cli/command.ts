/** One verb of the command line. */
export interface Command {
  readonly name: string;
  /** One line for `modelgate --help`. */
  readonly summary: string;
  /** What `modelgate <name> --help` prints. */
  readonly usage: string;
  /** Runs with the arguments after the verb; resolves with the exit code. */
  run(args: readonly string[]): Promise<number>;
}
