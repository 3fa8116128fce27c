/**
 * The OpenAPI 3.1 document of an OpenAI-compatible LLM server (vLLM, TGI, llama.cpp, Ollama …) in the gateway's public
 * paths: chat completions, completions, embeddings and the model list. Used when the upstream publishes no document of
 * its own. The schemas are modelgate's own, written to agree with the public OpenAI specification (a test checks every
 * property and required list against the copy in test/fixtures/upstream); with the ids from `GET /v1/models`, `model`
 * becomes an enum of what the server really serves. Streaming (`stream: true`) answers `text/event-stream`; the
 * per-event schema is given in `x-sse-event-schema` (OpenAPI 3.1 cannot say "a stream of these"; 3.2's `itemSchema`
 * can). Pure.
 */

type Schema = Record<string, unknown>;

/** What the document is about. */
export interface OpenAIDocumentInput {
  readonly title: string;
  /** Public base path of the API (or of one version of it). */
  readonly basePath: string;
  readonly version: string;
  /** Model ids from `GET /v1/models`; undefined when unknown (generic document). */
  readonly models?: readonly string[];
  /** The endpoints the server serves (`chat/completions`, `completions`, `embeddings`, `models`); default all but embeddings. */
  readonly endpoints?: readonly string[];
}

const DEFAULT_ENDPOINTS = ['chat/completions', 'completions', 'models'];

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Schema) => ({ 'application/json': { schema } });

const STOP: Schema = {
  description: 'Up to 4 sequences where generation stops.',
  anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, minItems: 1, maxItems: 4 }, { type: 'null' }],
};

const SAMPLING: Record<string, Schema> = {
  frequency_penalty: { type: ['number', 'null'], minimum: -2, maximum: 2, default: 0 },
  presence_penalty: { type: ['number', 'null'], minimum: -2, maximum: 2, default: 0 },
  logit_bias: { type: ['object', 'null'], additionalProperties: { type: 'integer' } },
  max_tokens: { type: ['integer', 'null'], minimum: 1, description: 'Largest number of tokens to generate.' },
  n: { type: ['integer', 'null'], minimum: 1, maximum: 128, default: 1 },
  seed: { type: ['integer', 'null'] },
  stop: STOP,
  stream: {
    type: ['boolean', 'null'],
    default: false,
    description: 'Send partial results as server-sent events (`text/event-stream`), ending with `data: [DONE]`.',
  },
  stream_options: {
    type: ['object', 'null'],
    description: 'With `include_usage`, the last event before `[DONE]` carries the token usage.',
    properties: { include_usage: { type: 'boolean' } },
  },
  temperature: { type: ['number', 'null'], minimum: 0, maximum: 2, default: 1 },
  top_p: { type: ['number', 'null'], minimum: 0, maximum: 1, default: 1 },
  user: { type: 'string' },
};

const MESSAGE: Schema = {
  type: 'object',
  required: ['role'],
  properties: {
    role: { enum: ['system', 'user', 'assistant', 'tool', 'function'] },
    content: {
      anyOf: [
        { type: 'string' },
        {
          type: 'array',
          items: {
            type: 'object',
            required: ['type'],
            properties: {
              type: { enum: ['text', 'image_url'] },
              text: { type: 'string' },
              image_url: { type: 'object', required: ['url'], properties: { url: { type: 'string' } } },
            },
          },
        },
        { type: 'null' },
      ],
    },
    name: { type: 'string' },
    tool_call_id: { type: 'string' },
    tool_calls: { type: 'array', items: ref('ToolCall') },
  },
};

const TOOL_CALL: Schema = {
  type: 'object',
  required: ['id', 'type', 'function'],
  properties: {
    id: { type: 'string' },
    type: { const: 'function' },
    function: {
      type: 'object',
      required: ['name', 'arguments'],
      properties: { name: { type: 'string' }, arguments: { type: 'string' } },
    },
  },
};

const USAGE: Schema = {
  type: 'object',
  required: ['prompt_tokens', 'completion_tokens', 'total_tokens'],
  properties: {
    prompt_tokens: { type: 'integer' },
    completion_tokens: { type: 'integer' },
    total_tokens: { type: 'integer' },
  },
};

const FINISH_REASON = { enum: ['stop', 'length', 'tool_calls', 'content_filter', 'function_call', null] };

function chatRequest(model: Schema): Schema {
  return {
    type: 'object',
    required: ['model', 'messages'],
    properties: {
      model,
      messages: { type: 'array', minItems: 1, items: ref('ChatMessage') },
      ...SAMPLING,
      logprobs: { type: ['boolean', 'null'], default: false },
      top_logprobs: { type: ['integer', 'null'], minimum: 0, maximum: 20 },
      response_format: {
        type: 'object',
        properties: { type: { enum: ['text', 'json_object'] } },
      },
      tools: {
        type: 'array',
        items: {
          type: 'object',
          required: ['type', 'function'],
          properties: {
            type: { const: 'function' },
            function: {
              type: 'object',
              required: ['name'],
              properties: {
                name: { type: 'string' },
                description: { type: 'string' },
                parameters: { type: 'object', description: 'JSON Schema of the arguments.' },
              },
            },
          },
        },
      },
      tool_choice: {
        anyOf: [
          { enum: ['none', 'auto', 'required'] },
          {
            type: 'object',
            required: ['type', 'function'],
            properties: {
              type: { const: 'function' },
              function: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
            },
          },
        ],
      },
    },
  };
}

const CHAT_RESPONSE: Schema = {
  type: 'object',
  required: ['id', 'object', 'created', 'model', 'choices'],
  properties: {
    id: { type: 'string' },
    object: { const: 'chat.completion' },
    created: { type: 'integer', description: 'Unix seconds.' },
    model: { type: 'string' },
    system_fingerprint: { type: 'string' },
    choices: {
      type: 'array',
      items: {
        type: 'object',
        required: ['index', 'message', 'finish_reason'],
        properties: {
          index: { type: 'integer' },
          message: ref('ChatMessage'),
          finish_reason: FINISH_REASON,
          logprobs: { type: ['object', 'null'] },
        },
      },
    },
    usage: ref('Usage'),
  },
};

const CHAT_CHUNK: Schema = {
  type: 'object',
  description: 'One `data:` event of a streamed chat completion.',
  required: ['id', 'object', 'created', 'model', 'choices'],
  properties: {
    id: { type: 'string' },
    object: { const: 'chat.completion.chunk' },
    created: { type: 'integer' },
    model: { type: 'string' },
    system_fingerprint: { type: 'string' },
    choices: {
      type: 'array',
      items: {
        type: 'object',
        required: ['index', 'delta'],
        properties: {
          index: { type: 'integer' },
          delta: {
            type: 'object',
            properties: {
              role: { enum: ['system', 'user', 'assistant', 'tool'] },
              content: { type: ['string', 'null'] },
              tool_calls: { type: 'array', items: { type: 'object' } },
            },
          },
          finish_reason: FINISH_REASON,
        },
      },
    },
    usage: { anyOf: [ref('Usage'), { type: 'null' }], description: 'Only in the last event, with `include_usage`.' },
  },
};

function completionRequest(model: Schema): Schema {
  return {
    type: 'object',
    required: ['model', 'prompt'],
    properties: {
      model,
      prompt: {
        anyOf: [
          { type: 'string' },
          { type: 'array', items: { type: 'string' } },
          { type: 'array', items: { type: 'integer' } },
          { type: 'array', items: { type: 'array', items: { type: 'integer' } } },
        ],
      },
      ...SAMPLING,
      best_of: { type: ['integer', 'null'], minimum: 1 },
      echo: { type: ['boolean', 'null'], default: false },
      logprobs: { type: ['integer', 'null'], minimum: 0, maximum: 5 },
      suffix: { type: ['string', 'null'] },
    },
  };
}

function completionResponse(object: string, text: boolean): Schema {
  return {
    type: 'object',
    required: ['id', 'object', 'created', 'model', 'choices'],
    properties: {
      id: { type: 'string' },
      object: { const: object },
      created: { type: 'integer' },
      model: { type: 'string' },
      system_fingerprint: { type: 'string' },
      choices: {
        type: 'array',
        items: {
          type: 'object',
          required: text ? ['index', 'text', 'finish_reason'] : ['index', 'text'],
          properties: {
            index: { type: 'integer' },
            text: { type: 'string' },
            finish_reason: FINISH_REASON,
            logprobs: { type: ['object', 'null'] },
          },
        },
      },
      usage: text ? ref('Usage') : { anyOf: [ref('Usage'), { type: 'null' }] },
    },
  };
}

function embeddingRequest(model: Schema): Schema {
  return {
    type: 'object',
    required: ['model', 'input'],
    properties: {
      model,
      input: {
        anyOf: [
          { type: 'string' },
          { type: 'array', minItems: 1, items: { type: 'string' } },
          { type: 'array', minItems: 1, items: { type: 'integer' } },
          { type: 'array', minItems: 1, items: { type: 'array', minItems: 1, items: { type: 'integer' } } },
        ],
      },
      encoding_format: { enum: ['float', 'base64'], default: 'float' },
      dimensions: { type: 'integer', minimum: 1 },
      user: { type: 'string' },
    },
  };
}

const EMBEDDING_RESPONSE: Schema = {
  type: 'object',
  required: ['object', 'model', 'data', 'usage'],
  properties: {
    object: { const: 'list' },
    model: { type: 'string' },
    data: {
      type: 'array',
      items: {
        type: 'object',
        required: ['index', 'object', 'embedding'],
        properties: {
          index: { type: 'integer' },
          object: { const: 'embedding' },
          embedding: { anyOf: [{ type: 'array', items: { type: 'number' } }, { type: 'string' }] },
        },
      },
    },
    usage: {
      type: 'object',
      required: ['prompt_tokens', 'total_tokens'],
      properties: { prompt_tokens: { type: 'integer' }, total_tokens: { type: 'integer' } },
    },
  },
};

const MODEL_LIST: Schema = {
  type: 'object',
  required: ['object', 'data'],
  properties: {
    object: { const: 'list' },
    data: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'object', 'created', 'owned_by'],
        properties: {
          id: { type: 'string' },
          object: { const: 'model' },
          created: { type: 'integer' },
          owned_by: { type: 'string' },
          max_model_len: { type: 'integer', description: 'vLLM: longest context.' },
        },
      },
    },
  },
};

const ERROR: Schema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['message'],
      properties: {
        message: { type: 'string' },
        type: { type: ['string', 'null'] },
        param: { type: ['string', 'null'] },
        code: { type: ['string', 'integer', 'null'] },
      },
    },
  },
};

/** Component names of the schemas above, exported for the fixture comparison test. */
export const OPENAI_SCHEMA_NAMES = [
  'ChatCompletionRequest',
  'ChatCompletionResponse',
  'ChatCompletionChunk',
  'CompletionRequest',
  'CompletionResponse',
  'EmbeddingRequest',
  'EmbeddingResponse',
  'ModelList',
] as const;

function streamingOperation(
  operationId: string,
  summary: string,
  request: string,
  response: string,
  chunk: string,
  example: Schema,
): Schema {
  return {
    operationId,
    summary,
    requestBody: {
      required: true,
      content: { 'application/json': { schema: ref(request), examples: { basic: { value: example } } } },
    },
    responses: {
      '200': {
        description: 'The result; with `stream: true`, server-sent events of chunks ending with `data: [DONE]`.',
        content: {
          'application/json': { schema: ref(response) },
          'text/event-stream': {
            schema: { type: 'string', description: 'Lines `data: <chunk JSON>`, then `data: [DONE]`.' },
            'x-sse-event-schema': ref(chunk),
          },
        },
      },
      '400': { description: 'Invalid request', content: json(ref('Error')) },
    },
  };
}

/** Builds the document. */
export function openAIDocument(input: OpenAIDocumentInput): Schema {
  const known = input.models && input.models.length > 0;
  const model: Schema = known
    ? { type: 'string', enum: [...input.models!], description: 'One of the models this server serves.' }
    : { type: 'string', description: 'Model id, as listed by `GET /v1/models`.' };
  const firstModel = known ? input.models![0]! : 'model';
  const base = input.basePath;
  const served = new Set(input.endpoints ?? DEFAULT_ENDPOINTS);
  const paths: Schema = {
    [`${base}/v1/chat/completions`]: {
      post: {
        ...streamingOperation(
          'createChatCompletion',
          'Chat completion',
          'ChatCompletionRequest',
          'ChatCompletionResponse',
          'ChatCompletionChunk',
          { model: firstModel, messages: [{ role: 'user', content: 'Hello!' }] },
        ),
        'x-schema-source': known ? 'metadata' : 'generic',
      },
    },
    [`${base}/v1/completions`]: {
      post: {
        ...streamingOperation(
          'createCompletion',
          'Text completion',
          'CompletionRequest',
          'CompletionResponse',
          'CompletionChunk',
          { model: firstModel, prompt: 'Once upon a time', max_tokens: 16 },
        ),
        'x-schema-source': known ? 'metadata' : 'generic',
      },
    },
    [`${base}/v1/embeddings`]: {
      post: {
        operationId: 'createEmbedding',
        summary: 'Embeddings',
        'x-schema-source': known ? 'metadata' : 'generic',
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: ref('EmbeddingRequest'),
              examples: { basic: { value: { model: firstModel, input: 'The food was delicious.' } } },
            },
          },
        },
        responses: {
          '200': { description: 'Embeddings', content: json(ref('EmbeddingResponse')) },
          '400': { description: 'Invalid request', content: json(ref('Error')) },
        },
      },
    },
    [`${base}/v1/models`]: {
      get: {
        operationId: 'listModels',
        summary: 'Models served',
        responses: { '200': { description: 'Model list', content: json(ref('ModelList')) } },
      },
    },
  };
  // Only what the server serves: the merge prunes the components no kept operation references.
  for (const path of Object.keys(paths)) if (!served.has(path.slice(`${base}/v1/`.length))) delete paths[path];
  return {
    openapi: '3.1.0',
    info: { title: input.title, version: input.version },
    paths,
    components: {
      schemas: {
        ChatCompletionRequest: chatRequest(model),
        ChatCompletionResponse: CHAT_RESPONSE,
        ChatCompletionChunk: CHAT_CHUNK,
        ChatMessage: MESSAGE,
        ToolCall: TOOL_CALL,
        CompletionRequest: completionRequest(model),
        CompletionResponse: completionResponse('text_completion', true),
        CompletionChunk: completionResponse('text_completion', false),
        EmbeddingRequest: embeddingRequest(model),
        EmbeddingResponse: EMBEDDING_RESPONSE,
        ModelList: MODEL_LIST,
        Usage: USAGE,
        Error: ERROR,
      },
    },
  };
}

/** Model ids from a `GET /v1/models` answer, or undefined when it is not one. */
export function openAIModelIds(body: unknown): string[] | undefined {
  const data = (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) return undefined;
  const ids = data.map((m) => (m as { id?: unknown } | null)?.id).filter((id): id is string => typeof id === 'string');
  return ids.length > 0 ? [...new Set(ids)].sort() : undefined;
}
