#!/usr/bin/env bash
# `bench:proxy` (bench/proxy-bench.ts) on the 16-core device machine, which reaches no registry and may
# have no nginx. Two steps, like fleet-bench.sh:
#   scripts/device/proxy-bench.sh build [DIR]   here: packs a compressed Node binary, esbuild bundles of the
#                                               CLI (which holds the benchmark), the bench worker, the load
#                                               generator, the bare relay and the Node TCP pipe, and this
#                                               machine's nginx with
#                                               every library it links (glibc and its loader included, so
#                                               the host's own libraries do not matter) into DIR (default
#                                               .devcarry/proxy-bench)
#   bash DIR/proxy-bench.sh run [FLAGS]          there: unpacks Node and runs `bench-proxy FLAGS`; results go
#                                               to $OUT (proxy-bench.json, proxy-bench.log)
#   bash DIR/proxy-bench.sh check                here or there: the packed Node and nginx start (no benchmark)
# The device tool sends the session's own checkout: DIR must be inside it, ignored by git, and named in
# the run's carry list. bench/README.md has the exact call.
set -euo pipefail
step="${1:-}"
shift || true
# shellcheck source=pack-lib.sh
source "$(dirname "$0")/pack-lib.sh"

pack_nginx() {
  local to="$1"
  mkdir -p "$to"
  cp /usr/sbin/nginx "$to/nginx"
  # Every library ldd resolves, and the dynamic loader itself: nginx then runs on any x86-64 Linux.
  ldd /usr/sbin/nginx | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }' | while read -r lib; do
    cp -L "$lib" "$to/"
  done
  cat > "$to/nginx.sh" <<'EOF'
#!/usr/bin/env bash
# nginx through the packed loader and libraries; exec keeps the pid (the benchmark samples its CPU).
d="$(cd "$(dirname "$0")" && pwd)"
exec "$d/ld-linux-x86-64.so.2" --library-path "$d" "$d/nginx" "$@"
EOF
  chmod +x "$to/nginx.sh" "$to/nginx"
}

case "$step" in
  build)
    cd "$(dirname "$0")/../.."
    dir="${1:-.devcarry/proxy-bench}"
    pack_base "$dir"
    # The CLI bundle is `disagg-console` itself: it runs bench-proxy and, as a child, each proxy.
    pack_bundle "$dir" scripts/device/fleet-cli-entry.ts fleet-cli.cjs
    pack_bundle "$dir" bench/load-gen.ts load-gen.cjs
    pack_bundle "$dir" bench/bench-worker.ts bench-worker.cjs
    pack_bundle "$dir" bench/bare-relay.ts bare-relay.cjs
    pack_bundle "$dir" bench/tcp-pipe.ts tcp-pipe.cjs
    if [ -x /usr/sbin/nginx ]; then pack_nginx "$dir/nginx"; else echo "no /usr/sbin/nginx here: packed without it"; fi
    cp scripts/device/proxy-bench.sh "$dir/"
    du -sh "$dir"
    ;;
  run)
    dir="$(cd "$(dirname "$0")" && pwd)"
    out="${OUT:-$(mktemp -d)}"
    node="$(unpack_node "$dir")"
    nginx=()
    [ -x "$dir/nginx/nginx.sh" ] && nginx=(--nginx "$dir/nginx/nginx.sh")
    cd "$dir"
    echo "host: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2), load average $(cut -d' ' -f1-3 /proc/loadavg)" |
      tee "$out/proxy-bench.log"
    "$node" dist/fleet-cli.cjs bench-proxy --bundles "$dir/dist" ${nginx[@]+"${nginx[@]}"} \
      --json "$out/proxy-bench.json" "$@" 2>&1 | tee -a "$out/proxy-bench.log"
    ;;
  check)
    dir="$(cd "$(dirname "$0")" && pwd)"
    node="$(unpack_node "$dir")"
    "$node" --version
    "$node" "$dir/dist/fleet-cli.cjs" bench-proxy --help | head -1 && echo
    [ -x "$dir/nginx/nginx.sh" ] && "$dir/nginx/nginx.sh" -v
    ;;
  *)
    echo "usage: $0 build [DIR] | run [bench-proxy flags] | check" >&2
    exit 2
    ;;
esac
