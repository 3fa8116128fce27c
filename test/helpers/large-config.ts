/**
 * Large file-mode configurations for the memory measurements (test/runtime/memory-return.test.ts and the bench's
 * robustness scenario): one generator, so the test and the bench measure the same kind of configuration.
 */

/** A minimal `openapi` ModelAPI at `/<name>` with one version on `port`; `extra` is spliced into its spec. */
export function openapiApiYaml(name: string, port: number, extra = ''): string {
  return `apiVersion: modelgate.dev/v1alpha1
kind: ModelAPI
metadata: {name: ${name}}
spec:
  protocol: openapi
  pathPrefix: /${name}
${extra}  versions:
    - name: v1
      backend: {url: "http://127.0.0.1:${port}"}
`;
}

/** About `bytes` of YAML: ModelAPIs with inline documents of ~10 KB each; `count` is how many. */
export function largeConfig(bytes: number, port: number): { text: string; count: number } {
  const inline = JSON.stringify({
    openapi: '3.1.0',
    info: { title: 'inline', version: '1' },
    paths: Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [
        `/op${i}`,
        { post: { responses: { 200: { description: `answer ${i} ${'x'.repeat(150)}` } } } },
      ]),
    ),
  });
  const one = (i: number) => openapiApiYaml(`big-${i}`, port, `  docs: {openAPI: {inline: ${inline}}}\n`);
  const count = Math.max(1, Math.round(bytes / one(0).length));
  return { text: Array.from({ length: count }, (_, i) => one(i)).join('---\n'), count };
}
