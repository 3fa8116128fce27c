/**
 * TorchServe generates its API descriptions in code (frontend `OpenApiUtils`, the same through v0.12.0, its last
 * release) and two of them describe requests its own router does not answer:
 *  - the per-model description (`OPTIONS /predictions/{model}`) documents `POST /prediction/{model}`, singular — the
 *    router only knows `/predictions/…`, so the path as published is a 404; and its KServe paths keep a
 *    `{model_name}` template without declaring the parameter, although the document is about one model;
 *  - the API description of the inference or the management port (`OPTIONS /`) lists `/metrics` whatever the port,
 *    but the metrics API is served on its own port (8082) unless one address serves every API (then the document
 *    lists the inference and the management paths together).
 * Recognised by what TorchServe writes into them (the titles and characteristic paths), repaired in place, so a
 * document fetched from TorchServe publishes only operations that answer. Anything else is left untouched.
 */
type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Repairs a TorchServe description in place; returns what was changed (empty for any other document). */
export function repairTorchServeDocument(doc: Json): string[] {
  const info = isObject(doc.info) ? doc.info : {};
  const paths = isObject(doc.paths) ? doc.paths : undefined;
  if (!paths || typeof info.title !== 'string') return [];
  const model = /^RESTful API for: (.+)$/.exec(info.title)?.[1];
  if (model !== undefined && isObject(paths[`/prediction/${model}`])) return repairModelDescription(paths, model);
  if (info.title === 'TorchServe APIs' && isObject(paths['/api-description'])) return repairApiDescription(paths);
  return [];
}

function repairModelDescription(paths: Json, model: string): string[] {
  const changed: string[] = [];
  const segment = encodeURIComponent(model);
  const repaired: Json = {};
  for (const [path, item] of Object.entries(paths)) {
    let target = path;
    if (path === `/prediction/${model}`) target = `/predictions/${segment}`;
    else if (path.includes('{model_name}') && !declares(item, 'model_name'))
      target = path.replaceAll('{model_name}', segment);
    if (target !== path) changed.push(`${path} → ${target}`);
    // A path already published under the repaired name wins: it is what the router answers.
    if (!(target in repaired) || target === path) repaired[target] = item;
  }
  for (const key of Object.keys(paths)) delete paths[key];
  Object.assign(paths, repaired);
  return changed;
}

function repairApiDescription(paths: Json): string[] {
  // Only one address serving every API (TorchServe's single-port mode) serves /metrics next to the others; its
  // description then lists the inference (`/ping`) and the management (`/models`) paths together.
  if (!isObject(paths['/metrics']) || (isObject(paths['/ping']) && isObject(paths['/models']))) return [];
  delete paths['/metrics'];
  return ['/metrics (served on the metrics port only)'];
}

/** Whether the path item or one of its operations declares the path parameter. */
function declares(item: unknown, name: string): boolean {
  if (!isObject(item)) return false;
  const holders = [item, ...Object.values(item).filter(isObject)];
  return holders.some(
    (h) => Array.isArray(h.parameters) && h.parameters.some((p) => isObject(p) && p.in === 'path' && p.name === name),
  );
}
