/**
 * The validation phase: the request is checked against the published document of the version that serves it. In
 * `enforce` mode a violation is answered 400 with the violations (JSON pointers); in `report` mode it is only counted.
 */
import { type BodyPhase, NEXT, REJECTED } from '../phase.ts';

export const validationPhase: BodyPhase = {
  name: 'validation',
  applies: (action) => action.validation !== undefined,
  run(ctx, exchange, services) {
    const policy = ctx.action.validation!;
    const violations = ctx.runtime.validators.validate(policy.ref, exchange.version, {
      method: exchange.send.method,
      path: ctx.path,
      query: ctx.query,
      header: ctx.header,
      contentType: exchange.contentType,
      body: exchange.body,
    });
    if (violations.length === 0) return NEXT;
    services.metrics.validationViolations.labels(ctx.rule.labels.api, policy.mode).inc();
    if (policy.mode !== 'enforce') return NEXT;
    const first = violations[0]!;
    ctx.fail(
      'invalidRequest',
      `${violations.length} violation(s) of the published schema; first: ${first.pointer || '/'} ${first.message}`,
      { violations },
    );
    return REJECTED;
  },
};
