#!/usr/bin/env bash
# Builds the example modules into examples/wasm/out/: the AssemblyScript normaliser (npm assemblyscript) and the C
# threshold filter (clang --target=wasm32 with lld, no libc). scripts/test runs this before the tests, which attach
# what it produces. Quick and idempotent.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p out

for tool in clang wasm-ld npm; do
  command -v "$tool" >/dev/null 2>&1 || { echo "build.sh: $tool is missing (Debian: apt-get install -y clang lld npm)" >&2; exit 1; }
done

# AssemblyScript: the stub runtime and our own abort, so the module imports nothing but fabric.log.
if [ ! -d normalise/node_modules ]; then
  (cd normalise && npm ci --no-audit --no-fund --loglevel=error)
fi
(cd normalise && npx --no-install asc assembly/index.ts --config asconfig.json --target release)

# C: no libc, no entry point; memory and the ABI's functions exported, fabric.log left to the host. SIMD128 for the
# JSON scanner and bulk memory for memcpy (memory.copy): both on by default in Wasmtime and V8. Memory capped at the
# host's 16 MiB, so a runaway grow fails inside the module rather than at the host's limit.
clang --target=wasm32 -O2 -nostdlib -ffreestanding -msimd128 -mbulk-memory -Wall -Wextra -Werror \
  -Wl,--no-entry -Wl,--export=alloc -Wl,--export=handle -Wl,--export=init -Wl,--strip-all \
  -Wl,--max-memory=16777216 \
  -o out/threshold.wasm threshold/threshold.c

echo "built: $(ls -1 out/*.wasm | tr '\n' ' ')" >&2
