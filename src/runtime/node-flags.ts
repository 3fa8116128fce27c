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
 *
 * `--heap-growing-percent=30`: after a full collection V8 lets the old generation grow to a multiple of what survived
 * before collecting again — up to 4× on a machine with gigabytes of memory, about 1.5–1.8× as measured here. A
 * gateway's old generation is mostly its configuration, and a reload briefly holds two of them plus what compiling
 * promoted: with 10,000 ModelAPIs that left ~90 MB of dead snapshots resident after five reloads. Growing by 30% at
 * most keeps that bounded (the 10,000-API benchmark: ≈ 325 → 288 MB) without more full collections in steady traffic
 * (same count under the 64-connection load, same CPU per request within noise) and with reloads as fast as before.
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=16', '--heap-growing-percent=30'];
