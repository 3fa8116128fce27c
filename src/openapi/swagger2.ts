/**
 * Swagger 2.0 → OpenAPI 3.0 with swagger2openapi (then normalize-31.ts takes it to 3.1). The converter and its
 * dependencies are loaded on first use: most gateways never meet a Swagger 2.0 document, and it costs memory.
 */

/** Converts a Swagger 2.0 document without resolving external references (no I/O); patches small mistakes. */
export async function convertSwagger2(document: Record<string, unknown>): Promise<Record<string, unknown>> {
  const { convertObj } = await import('swagger2openapi');
  const result = await convertObj(structuredClone(document), { patch: true, warnOnly: true, resolve: false });
  return result.openapi;
}
