/**
 * What the Kubernetes status writer sends — status patches and Events — goes through the redactor first: a secret of
 * the configuration in a condition message, or a URL with credentials, never reaches the API server. Against the
 * API-server simulator, through the real client; the writer as KubeGateway wires it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { SecretRedactor } from '../../src/common/secret-redactor.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { condition } from '../../src/resources/status.ts';
import { KubeStatusWriter } from '../../src/runtime/kube/status-writer.ts';
import { StatusStore } from '../../src/runtime/status-store.ts';
import { eventually } from '../helpers/gateway.ts';
import { KubeApiServer } from '../helpers/kube-apiserver.ts';

const CRDS = ['modelapis', 'modelgateways'].map(
  (k) => new URL(`../../deploy/crds/modelgate.dev_${k}.yaml`, import.meta.url).pathname,
);
const SECRET = 'hunter2-redis-Passw0rd';

describe('the status writer redacts', () => {
  let sim: KubeApiServer;
  before(async () => {
    sim = new KubeApiServer(CRDS, 200);
    await sim.start();
    sim.put({
      apiVersion: 'modelgate.dev/v1alpha1',
      kind: 'ModelAPI',
      metadata: { name: 'iris', namespace: 'ml' },
      spec: { protocol: 'openapi', versions: [{ name: 'v1', backend: { url: 'http://127.0.0.1:1' } }] },
    });
  });
  after(() => sim.stop());

  it('status patches and Events carry no secret value and no URL credentials', async () => {
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromString(sim.kubeconfig('modelgate-system'));
    const redactor = new SecretRedactor();
    redactor.learn([SECRET]);
    const writer = new KubeStatusWriter({
      kubeConfig,
      identity: 'pod-a',
      logger: createLogger(process.env.MODELGATE_LOG_LEVEL ?? 'silent'),
      isLeader: () => true,
      redact: (value) => redactor.redactJson(value),
    });
    writer.leadershipChanged(true);
    const store = new StatusStore();
    const publish = (status: 'True' | 'False', message: string) => {
      store.update(
        [
          {
            ref: 'ModelAPI/ml/iris',
            conditions: [condition('Ready', status, status === 'True' ? 'Ready' : 'BackendUnavailable', message)],
          },
        ],
        new Date(),
      );
      writer.update(store);
    };
    publish('True', 'every version has ready endpoints');
    await eventually(
      () => (sim.get('modelgate.dev/v1alpha1', 'ModelAPI', 'ml', 'iris')?.status as object) !== undefined,
      5000,
    );
    // A change of status after the baseline: written to the status and announced as an Event.
    publish('False', `redis://user:${SECRET}@redis:6379 refused the password ${SECRET}`);
    await eventually(() => sim.list('events.k8s.io/v1', 'Event').length > 0, 5000);
    await eventually(
      () => JSON.stringify(sim.get('modelgate.dev/v1alpha1', 'ModelAPI', 'ml', 'iris')?.status).includes('redis:6379'),
      5000,
    );
    const written = JSON.stringify([
      sim.get('modelgate.dev/v1alpha1', 'ModelAPI', 'ml', 'iris')?.status,
      sim.list('events.k8s.io/v1', 'Event'),
    ]);
    assert.ok(!written.includes(SECRET), written);
    assert.ok(!written.includes('user:'), 'URL userinfo masked');
    assert.match(written, /\[redacted\]/);
  });
});
