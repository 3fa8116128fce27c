/**
 * BentoML writes the component schemas of its `/docs.json` in pydantic's validation mode, where its own validators
 * (`_bentoml_sdk/validators.py`) put types JSON Schema does not have: `{"type": "file", "format": …}` for a `Path` or
 * PIL image, `{"type": "tensor", "format", "dtype", "shape", "dim"}` for numpy/torch/tf tensors, `{"type":
 * "dataframe", "orient", "columns"}` for pandas. Its request bodies (serialization mode) spell the same values
 * validly: a binary string, nested arrays of numbers, records or columns. Each schema is given that valid spelling,
 * in place, and BentoML's extra keywords are dropped; anything else is left untouched.
 */
type Json = Record<string, unknown>;

/** Repairs one schema in place when its `type` is one of BentoML's; returns whether it was. */
export function repairBentoMLType(schema: Json): boolean {
  switch (schema.type) {
    case 'file': {
      const media =
        typeof schema.content_type === 'string'
          ? schema.content_type
          : typeof schema.format === 'string' && ['image', 'audio', 'video'].includes(schema.format)
            ? `${schema.format}/*`
            : undefined;
      for (const key of ['content_type', 'pil']) delete schema[key];
      schema.type = 'string';
      schema.format = 'binary';
      // Normalisation turns `format: binary` into `contentMediaType`; a known media type is kept (set after it).
      if (media) schema['x-bentoml-media-type'] = media;
      return true;
    }
    case 'tensor': {
      const rank = Array.isArray(schema.shape) ? Math.max(schema.shape.length, 1) : 1;
      for (const key of ['format', 'dtype', 'shape', 'dim']) delete schema[key];
      let items: Json = { type: 'number' };
      for (let i = 1; i < rank; i++) items = { type: 'array', items };
      schema.type = 'array';
      schema.items = items;
      return true;
    }
    case 'dataframe': {
      const columns = schema.orient === 'columns';
      for (const key of ['orient', 'columns']) delete schema[key];
      if (columns) {
        schema.type = 'object';
        schema.additionalProperties = { type: 'array' };
      } else {
        schema.type = 'array';
        schema.items = { type: 'object' };
      }
      return true;
    }
    default:
      return false;
  }
}
