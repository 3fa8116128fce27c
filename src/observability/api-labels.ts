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
