#!/usr/bin/env bash
# Packs what scripts/device/gpu-run.ts needs on the device machine (which reaches no registry) into
# .devcarry/: a compressed Node binary and CommonJS bundles of the run and of the CLI (etcd3 loads its .proto
# files from ../proto relative to the bundle, so they are copied beside it).
set -euo pipefail
cd "$(dirname "$0")/../.."
rm -rf .devcarry && mkdir -p .devcarry/dist .devcarry/proto
[ -f /tmp/devnode/node.xz ] && cp /tmp/devnode/node.xz .devcarry/node.xz || xz -T2 -6 -c "$(command -v node)" > .devcarry/node.xz
for entry in gpu-run cli-entry; do
  npx esbuild "scripts/device/$entry.ts" --bundle --platform=node --format=cjs --target=node20 \
    --outfile=".devcarry/dist/$entry.cjs" --log-level=warning
done
cp node_modules/etcd3/proto/*.proto .devcarry/proto/
cp scripts/device/gpu-hold-worker.py .devcarry/
du -sh .devcarry
