/**
 * The metering phase of OpenAI-compatible APIs, on every request whether or not a budget is set: the usage the model
 * reports (in the JSON answer, or in the usage chunk a stream is asked for on the client's behalf and that is removed
 * again) becomes the GenAI metrics — tokens by type, model and consumer, time to first token, duration until the last
 * byte — the access log's `tokens`, the trace's GenAI attributes, and what the token budget spends.
 */
import { type BodyPhase, NEXT } from '../phase.ts';
import { requestUsage, usageTap } from './usage.ts';

export const meteringPhase: BodyPhase = {
  name: 'metering',
  applies: (action) => action.meterTokens === true,
  run(ctx, exchange, services) {
    const prepared = requestUsage(exchange.body);
    exchange.body = prepared.body;
    const api = ctx.rule.labels.api;
    const model = prepared.model ?? '';
    const consumer = ctx.identity?.subject ?? '';
    const { metrics } = services;
    const started = ctx.started;
    let firstTokenSeconds: number | undefined;
    exchange.taps.push(
      usageTap(
        prepared.injected,
        (usage) => {
          const version = exchange.version;
          metrics.tokens.labels(api, version).inc(usage.total);
          metrics.genAiTokens.labels(api, version, model, consumer, 'input').inc(usage.input);
          metrics.genAiTokens.labels(api, version, model, consumer, 'output').inc(usage.output);
          metrics.genAiRequestDuration.labels(api, version, model).observe((performance.now() - started) / 1000);
          if (ctx.access) ctx.access.tokens = (ctx.access.tokens ?? 0) + usage.total;
          ctx.trace?.attributes({
            'gen_ai.operation.name': ctx.path.endsWith('/embeddings') ? 'embeddings' : 'chat',
            ...(model ? { 'gen_ai.request.model': model } : {}),
            ...(usage.model ? { 'gen_ai.response.model': usage.model } : {}),
            'gen_ai.usage.input_tokens': usage.input,
            'gen_ai.usage.output_tokens': usage.output,
            'modelgate.gen_ai.stream': prepared.stream === true,
            ...(firstTokenSeconds !== undefined ? { 'modelgate.gen_ai.time_to_first_token': firstTokenSeconds } : {}),
          });
          for (const listener of exchange.usageListeners) listener(usage);
        },
        () => {
          firstTokenSeconds = (performance.now() - started) / 1000;
          metrics.genAiTimeToFirstToken.labels(api, exchange.version, model).observe(firstTokenSeconds);
        },
      ),
    );
    return NEXT;
  },
};
