#!/usr/bin/env bash
# `bench:proxy` (bench/proxy-bench.ts) on the 16-core device machine, which reaches no registry and may
# have no nginx. Two steps, like fleet-bench.sh:
#   scripts/device/proxy-bench.sh build [DIR]   here: packs a compressed Node binary, esbuild bundles of the
#                                               CLI (which holds the benchmark), the bench worker, the load
#                                               generator and the bare relay, and this machine's nginx with
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

unpack_node() {
  local node
  node="$(mktemp -d)/node"
  xz -dc "$1/node.xz" > "$node" && chmod +x "$node"
  echo "$node"
}

case "$step" in
  build)
    cd "$(dirname "$0")/../.."
    dir="${1:-.devcarry/proxy-bench}"
    rm -rf "$dir" && mkdir -p "$dir/dist" "$dir/proto"
    # xz of the Node binary takes minutes on a small machine: build.sh's cached copy is reused when there.
    [ -f /tmp/devnode/node.xz ] && cp /tmp/devnode/node.xz "$dir/node.xz" ||
      xz -T2 -6 -c "$(command -v node)" > "$dir/node.xz"
    bundle() {
      npx esbuild "$1" --bundle --platform=node --format=cjs --target=node20 \
        --outfile="$dir/dist/$2" --log-level=error
    }
    # The CLI bundle is `disagg-console` itself: it runs bench-proxy and, as a child, each proxy.
    bundle scripts/device/fleet-cli-entry.ts fleet-cli.cjs
    bundle bench/load-gen.ts load-gen.cjs
    bundle bench/bench-worker.ts bench-worker.cjs
    bundle bench/bare-relay.ts bare-relay.cjs
    # etcd3 (bundled with the CLI) loads its .proto files from ../proto, relative to the bundle.
    cp node_modules/etcd3/proto/*.proto "$dir/proto/"
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
    "$node" dist/fleet-cli.cjs bench-proxy --bundles "$dir/dist" "${nginx[@]}" \
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
