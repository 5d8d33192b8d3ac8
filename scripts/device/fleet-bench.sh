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
# shellcheck source=pack-lib.sh
source "$(dirname "$0")/pack-lib.sh"
case "$step" in
  build)
    cd "$(dirname "$0")/../.."
    dir="${1:-.devcarry/fleet-bench}"
    pack_base "$dir"
    pack_bundle "$dir" bench/fleet-bench.ts fleet-bench.cjs
    pack_bundle "$dir" bench/load-gen.ts load-gen.cjs
    pack_bundle "$dir" bench/bench-worker.ts bench-worker.cjs
    pack_bundle "$dir" scripts/device/fleet-cli-entry.ts fleet-cli.cjs
    cp scripts/device/fleet-bench.sh "$dir/"
    du -sh "$dir"
    ;;
  run)
    dir="$(cd "$(dirname "$0")" && pwd)"
    out="${OUT:-$(mktemp -d)}"
    node="$(unpack_node "$dir")"
    cd "$dir"
    "$node" dist/fleet-bench.cjs --bundles "$dir/dist" --out "$out" "$@" 2>&1 | tee "$out/fleet-bench.log"
    ;;
  *)
    echo "usage: $0 build [DIR] | run [fleet-bench flags]" >&2
    exit 2
    ;;
esac
