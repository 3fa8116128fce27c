#!/usr/bin/env bash
# `npm run conformance`: the Gateway API HTTPRoute cases of ../shared/conformance/gateway-api against modelgate in
# file mode (the runner starts modelgate once per case and phase, on loopback, and stops it by its pid).
# Extra arguments go to the runner, e.g. `npm run conformance -- --profile core --no-provisional`.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
suite="$root/../shared/conformance/gateway-api"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
node "$root/scripts/build.ts" --quiet # the runner starts dist/cli.js, as every launcher does
cd "$suite"
node run.mjs --config-dir "$work" \
  --gateway-cmd "$(command -v node) --max-semi-space-size=16 --heap-growing-percent=30 $root/dist/cli.js serve --config {configDir} --port {port} --admin-port 0 --controller-name {controllerName}" \
  "$@"
