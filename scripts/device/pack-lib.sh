# Shared steps of the device packs (fleet-bench.sh, proxy-bench.sh), sourced by both: the device machine
# reaches no registry, so a pack carries a compressed Node binary and esbuild bundles. Each pack copies
# this file beside its script, since `run` there sources it too.

# pack_base DIR: an empty DIR with Node (xz), dist/ for the bundles, etcd3's .proto files (the CLI bundle
# loads them from ../proto, relative to itself) and this file.
pack_base() {
  local dir="$1"
  rm -rf "$dir" && mkdir -p "$dir/dist" "$dir/proto"
  # xz of the Node binary takes minutes on a small machine: build.sh's cached copy is reused when there.
  [ -f /tmp/devnode/node.xz ] && cp /tmp/devnode/node.xz "$dir/node.xz" ||
    xz -T2 -6 -c "$(command -v node)" > "$dir/node.xz"
  cp node_modules/etcd3/proto/*.proto "$dir/proto/"
  cp scripts/device/pack-lib.sh "$dir/"
}

# pack_bundle DIR ENTRY.ts OUT.cjs: one CommonJS bundle for Node 20 into DIR/dist.
pack_bundle() {
  npx esbuild "$2" --bundle --platform=node --format=cjs --target=node20 \
    --outfile="$1/dist/$3" --log-level=error
}

# unpack_node DIR: Node unpacked into a fresh temporary folder; prints its path.
unpack_node() {
  local node
  node="$(mktemp -d)/node"
  xz -dc "$1/node.xz" > "$node" && chmod +x "$node"
  echo "$node"
}
