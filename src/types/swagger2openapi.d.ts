/** The part of swagger2openapi's API modelgate uses (the package ships no types). */
declare module 'swagger2openapi' {
  interface ConvertOptions {
    patch?: boolean;
    warnOnly?: boolean;
    resolve?: boolean;
    direct?: boolean;
  }
  interface ConvertResult {
    openapi: Record<string, unknown>;
  }
  export function convertObj(swagger: Record<string, unknown>, options: ConvertOptions): Promise<ConvertResult>;
}
