/**
 * An Open Inference Protocol (V2) model server with a small real model: a multinomial logistic regression trained
 * on the Iris data set (weights in iris-model.json, produced by train-iris.py with scikit-learn).
 * Serves /v2, /v2/health/{live,ready}, /v2/models/{m}[/versions/{v}][/ready|/infer].
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readJson, sendJson, startServer } from './http-util.ts';

interface IrisModel {
  readonly features: string[];
  readonly classes: string[];
  readonly coef: number[][];
  readonly intercept: number[];
}

const model = JSON.parse(readFileSync(new URL('./iris-model.json', import.meta.url), 'utf8')) as IrisModel;

/** Class probabilities for one row of 4 features. */
export function predictProba(row: readonly number[]): number[] {
  const logits = model.coef.map((w, k) => w.reduce((sum, wi, i) => sum + wi * row[i]!, model.intercept[k]!));
  const max = Math.max(...logits);
  const exps = logits.map((l) => Math.exp(l - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}

interface Tensor {
  name: string;
  datatype: string;
  shape: number[];
  data: unknown[];
}

/** Creates a V2 handler serving the iris model under `name` (with `version`). */
export function irisHandler(name = 'iris', version = '1') {
  const metadata = {
    name,
    versions: [version],
    platform: 'scikit-learn',
    inputs: [{ name: 'features', datatype: 'FP32', shape: [-1, 4] }],
    outputs: [
      { name: 'class', datatype: 'INT64', shape: [-1] },
      { name: 'probabilities', datatype: 'FP32', shape: [-1, 3] },
    ],
  };
  return async (req: IncomingMessage, res: ServerResponse, path: string) => {
    if (path === '/v2/health/live' || path === '/v2/health/ready')
      return sendJson(res, 200, { live: true, ready: true });
    if (path === '/v2') return sendJson(res, 200, { name: 'iris-v2-example', version: '1.0.0', extensions: [] });
    const m = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer)?$/.exec(path);
    if (!m || decodeURIComponent(m[1]!) !== name || (m[2] !== undefined && m[2] !== version)) {
      if (m) return sendJson(res, 404, { error: `model ${decodeURIComponent(m[1]!)} not found` });
      return false;
    }
    if (m[3] === '/ready') return sendJson(res, 200, { name, ready: true });
    if (m[3] === undefined) return sendJson(res, 200, metadata);
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'infer needs POST' });
    const body = (await readJson(req)) as { id?: string; inputs?: Tensor[] };
    const input = body?.inputs?.find((t) => t.name === 'features');
    if (!input) return sendJson(res, 400, { error: "input tensor 'features' is required" });
    const flat = (input.data as unknown[]).flat(2) as number[];
    const rows = input.shape[0] ?? flat.length / 4;
    if (input.shape.length !== 2 || input.shape[1] !== 4 || flat.length !== rows * 4) {
      return sendJson(res, 400, {
        error: `features must have shape [N, 4] with N*4 values, got ${JSON.stringify(input.shape)}`,
      });
    }
    const probabilities: number[] = [];
    const classes: number[] = [];
    for (let r = 0; r < rows; r++) {
      const p = predictProba(flat.slice(r * 4, r * 4 + 4));
      probabilities.push(...p.map((x) => Math.round(x * 1e6) / 1e6));
      classes.push(p.indexOf(Math.max(...p)));
    }
    return sendJson(res, 200, {
      model_name: name,
      model_version: version,
      ...(body.id !== undefined ? { id: body.id } : {}),
      outputs: [
        { name: 'class', datatype: 'INT64', shape: [rows], data: classes },
        { name: 'probabilities', datatype: 'FP32', shape: [rows, 3], data: probabilities },
      ],
      parameters: { class_names: model.classes },
    });
  };
}

if (import.meta.main) {
  const port = Number(process.env.PORT ?? 9101);
  const { port: bound } = await startServer(irisHandler(process.env.MODEL_NAME ?? 'iris'), port);
  process.stdout.write(`iris V2 model server on http://127.0.0.1:${bound}\n`);
}
