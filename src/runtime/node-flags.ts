/**
 * Node/V8 flags the gateway process runs with: the `modelgate` npm script, the container's entrypoint, the `bin`
 * shebang, the demo, the conformance runner and the benchmark all start it (dist/cli.js) with these (cluster workers inherit them); a test keeps them in
 * step.
 *
 * `--max-semi-space-size=16`: while a large configuration compiles, many young objects survive their first
 * collections and V8 grows the young generation to its maximum (64 MB per semi-space here) — and keeps it: with
 * 10,000 ModelAPIs that was about 100 MB of resident memory doing nothing. 16 MB semi-spaces still leave the request
 * path's short-lived garbage hundreds of milliseconds between scavenges. The flag only works on the command line
 * (V8 sizes the heap at start), which is why it is a launcher setting and not set from code.
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=16'];
