#!/usr/bin/env bash
# The fleet benchmark (bench/fleet-bench.ts, issue #16) on the 16-core device machine, which reaches no
# registry. Two steps:
#   scripts/device/fleet-bench.sh build [DIR]   here: packs a compressed Node binary, esbuild bundles of the
#                                               benchmark, the CLI, the bench worker and the load generator,
#                                               and this script into DIR (default .devcarry/fleet-bench)
#   bash DIR/fleet-bench.sh run [FLAGS]          there: unpacks Node and runs the benchmark; results go to $OUT
#                                               (fleet-bench.json, fleet-bench.md, the log)
# The device tool sends the session's own checkout: DIR must be inside it, ignored by git, and named in
# the run's carry list. bench/README.md has the exact call.
set -euo pipefail
step="${1:-}"
shift || true
case "$step" in
  build)
    cd "$(dirname "$0")/../.."
    dir="${1:-.devcarry/fleet-bench}"
    rm -rf "$dir" && mkdir -p "$dir/dist" "$dir/proto"
    # xz of the Node binary takes minutes on a small machine: build.sh's cached copy is reused when there.
    [ -f /tmp/devnode/node.xz ] && cp /tmp/devnode/node.xz "$dir/node.xz" ||
      xz -T2 -6 -c "$(command -v node)" > "$dir/node.xz"
    bundle() {
      npx esbuild "$1" --bundle --platform=node --format=cjs --target=node20 \
        --outfile="$dir/dist/$2" --log-level=error
    }
    bundle bench/fleet-bench.ts fleet-bench.cjs
    bundle bench/load-gen.ts load-gen.cjs
    bundle bench/bench-worker.ts bench-worker.cjs
    bundle scripts/device/fleet-cli-entry.ts fleet-cli.cjs
    # etcd3 (bundled with the CLI) loads its .proto files from ../proto, relative to the bundle.
    cp node_modules/etcd3/proto/*.proto "$dir/proto/"
    cp scripts/device/fleet-bench.sh "$dir/"
    du -sh "$dir"
    ;;
  run)
    dir="$(cd "$(dirname "$0")" && pwd)"
    out="${OUT:-$(mktemp -d)}"
    node="$(mktemp -d)/node"
    xz -dc "$dir/node.xz" > "$node" && chmod +x "$node"
    cd "$dir"
    "$node" dist/fleet-bench.cjs --bundles "$dir/dist" --out "$out" "$@" 2>&1 | tee "$out/fleet-bench.log"
    ;;
  *)
    echo "usage: $0 build [DIR] | run [fleet-bench flags]" >&2
    exit 2
    ;;
esac
