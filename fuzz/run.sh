#!/usr/bin/env bash
# Coverage-guided fuzzing on the stable toolchain (the same instrumentation
# cargo-fuzz uses, without a sanitizer).
#   fuzz/run.sh TARGET [SECONDS]     TARGET: keys | organizations | activities | errors
set -euo pipefail
cd "$(dirname "$0")"
target="${1:?usage: fuzz/run.sh keys|organizations|activities|errors [SECONDS]}"
seconds="${2:-60}"
triple="$(rustc -vV | sed -n 's/^host: //p')"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing" \
  cargo build --release --target "$triple" --bin "$target"
mkdir -p "corpus/$target" artifacts
work="$(mktemp -d)"
cp -r "corpus/$target/." "$work/" 2>/dev/null || true
"$CARGO_TARGET_DIR/$triple/release/$target" "$work" -max_total_time="$seconds" -artifact_prefix=artifacts/
