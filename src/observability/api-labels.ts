/**
 * The `namespace` and `api` labels of a resource ref (`ModelAPI/ml/iris` → `ml`, `iris`; an HTTPRoute's series keep
 * its kind in `api`: `HTTPRoute/<name>`), the same two labels in every family. Split once per ref: the data plane
 * passes the ref its rule carries.
 */
const refLabels = new Map<string, readonly [string, string]>();
export function apiLabels(ref: string): readonly [string, string] {
  let labels = refLabels.get(ref);
  if (labels === undefined) {
    const [kind = '', namespace = '', ...rest] = ref.split('/');
    const name = rest.join('/');
    labels = ref === '' ? ['', ''] : [namespace, kind === 'ModelAPI' ? name : `${kind}/${name}`];
    if (refLabels.size > 100_000) refLabels.clear();
    refLabels.set(ref, labels);
  }
  return labels;
}

/**
 * The `namespace`, `api` and `version` labels of a cluster (the endpoints of one ModelAPI version,
 * `<namespace>/<api>/<version>`; or a Service behind HTTPRoutes, `svc:<namespace>/<name>:<port>`, labelled
 * `api="Service/<name>"`, `version="<port>"`): the endpoint health gauge speaks the same labels as the request families.
 */
const clusterLabelCache = new Map<string, readonly [string, string, string]>();
export function clusterLabels(cluster: string): readonly [string, string, string] {
  let labels = clusterLabelCache.get(cluster);
  if (labels === undefined) {
    const svc = /^svc:([^/]*)\/([^:]*):([^:]*)/.exec(cluster);
    if (svc) labels = [svc[1]!, `Service/${svc[2]}`, svc[3]!];
    else {
      const [namespace = '', api = '', ...version] = cluster.split('/');
      labels = [namespace, api, version.join('/')];
    }
    if (clusterLabelCache.size > 100_000) clusterLabelCache.clear();
    clusterLabelCache.set(cluster, labels);
  }
  return labels;
}
