/**
 * ConfigMaps a ModelAPI owns stay under the 1 MiB object limit: a large document goes gzip-compressed to binaryData,
 * one that does not fit even so is not written, and a revision history drops its oldest revisions until it fits.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import type { VersionHistory } from '../../src/changes/revisions.ts';
import { configMap } from '../../src/runtime/kube/document-publisher.ts';
import { MAX_CONFIGMAP_BYTES } from '../../src/runtime/kube/owned-configmap.ts';
import { encode } from '../../src/runtime/kube/revision-configmaps.ts';

describe('owned ConfigMaps within 1 MiB', () => {
  it('stores a small document as is, a large one gzip-compressed, and refuses one that cannot fit', () => {
    const small = configMap('ml', 'iris-openapi', 'iris', 'uid-1', '{"openapi":"3.1.0"}', 'sha');
    assert.equal(small?.data?.['openapi.json'], '{"openapi":"3.1.0"}');
    assert.equal(small?.metadata?.ownerReferences?.[0]?.uid, 'uid-1');
    const large = JSON.stringify({
      paths: Object.fromEntries(
        Array.from({ length: 60_000 }, (_, i) => [`/p${i}`, { get: { summary: 'an operation' } }]),
      ),
    });
    assert.ok(large.length > MAX_CONFIGMAP_BYTES);
    const compressed = configMap('ml', 'iris-openapi', 'iris', 'uid-1', large, 'sha');
    assert.equal(gunzipSync(Buffer.from(compressed!.binaryData!['openapi.json.gz']!, 'base64')).toString(), large);
    const random = randomBytes(1_200_000).toString('base64'); // does not compress below the limit
    assert.equal(configMap('ml', 'x', 'x', 'u', random, 'sha'), undefined);
  });

  it('drops the oldest revisions of a history until it fits', () => {
    const filler = randomBytes(300_000).toString('base64');
    const revisions = Array.from({ length: 6 }, (_, i) => ({
      api: 'ModelAPI/ml/iris',
      version: 'v1',
      revision: i + 1,
      hash: String(i),
      at: new Date(i * 1000).toISOString(),
      source: 'inline',
      changes: [],
      breaking: 0,
      note: filler, // incompressible weight per revision
    }));
    const history = { revisions, document: {} } as unknown as VersionHistory;
    const cm = encode('ml', 'iris-revisions-v1', 'iris', 'uid-1', history)!;
    const text =
      cm.data?.['history.json'] ?? gunzipSync(Buffer.from(cm.binaryData!['history.json.gz']!, 'base64')).toString();
    const kept = (JSON.parse(text) as VersionHistory).revisions.map((r) => r.revision);
    assert.ok(kept.length < 6 && kept.length > 0, `kept ${kept.join(',')}`);
    assert.equal(kept.at(-1), 6, 'the newest revisions stay');
  });
});
