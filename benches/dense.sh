#!/usr/bin/env bash
# The dense-log benchmark: a registered token on every ~100-byte line, file to /dev/null,
# the release binary beside ripgrep in the same run.
#
#   bash benches/dense.sh [SIZE_MIB] [RUNS] [SECRET_COUNTS...]
#
# For each secret count (default: 1 1000 10000) it generates SIZE_MIB MiB (default 64) of
# ~100-byte lines, each with one of the secrets (`gen_log … dense`), then times, alternating,
# RUNS times (default 5) each:
#     logmask -f SECRETS < LOG > /dev/null                            (defaults)
#     logmask -f SECRETS --encodings none --no-token-shapes < LOG ... (exact)
#     logmask -f SECRETS+64K < LOG > /dev/null        (the set also holds one 64 KiB secret)
#     rg --passthru -F -f SECRETS -r '[MASKED]' LOG > /dev/null        (if rg is installed)
# and prints the medians in GB/s. It also checks that both mask every line.
set -euo pipefail
cd "$(dirname "$0")/.."

size=${1:-64}
runs=${2:-5}
shift $(( $# < 2 ? $# : 2 ))
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(1 1000 10000)

cargo build --release --quiet --bin logmask --example gen_log
bin=$PWD/target/release/logmask
# BENCH_DIR=/dev/shm keeps the logs in tmpfs: a disk-backed page cache can drop their pages
# between runs and read them again, which times the disk (DESIGN.md, "Session 11").
work=$(mktemp -d ${BENCH_DIR:+-p "$BENCH_DIR"})
trap 'rm -rf "$work"' EXIT
rg=$(command -v rg || true)

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
# One 64 KiB secret of letters, the same every run.
head -c 200000 /dev/zero | tr '\0' 'x' | awk '{srand(64); s=""; for (i = 0; i < 65536; i++) s = s sprintf("%c", 65 + int(rand() * 26)); print s}' > "$work/long"

printf '%-8s %-6s %12s %12s %12s %12s\n' secrets size defaults exact "+64 KiB" ripgrep
for n in "${counts[@]}"; do
  log=$work/log secrets=$work/secrets
  target/release/examples/gen_log "$log" "$secrets" "$size" "$n" dense
  cat "$secrets" "$work/long" > "$work/secrets-long"
  bytes=$(stat -c %s "$log")
  lines=$(wc -l < "$log")
  masked=$("$bin" -f "$secrets" < "$log" | grep -c '\[MASKED\]' || true)
  [ "$masked" -ge "$lines" ] || { echo "only $masked of $lines lines masked" >&2; exit 1; }
  : > "$work/d"; : > "$work/e"; : > "$work/l"; : > "$work/r"
  for _ in $(seq "$runs"); do
    t=$(now); "$bin" -f "$secrets" < "$log" > /dev/null; echo $(( $(now) - t )) >> "$work/d"
    t=$(now); "$bin" -f "$secrets" --encodings none --no-token-shapes < "$log" > /dev/null; echo $(( $(now) - t )) >> "$work/e"
    t=$(now); "$bin" -f "$work/secrets-long" < "$log" > /dev/null; echo $(( $(now) - t )) >> "$work/l"
    if [ -n "$rg" ]; then
      t=$(now); "$rg" --passthru -F -f "$secrets" -r '[MASKED]' "$log" > /dev/null; echo $(( $(now) - t )) >> "$work/r"
    else
      echo 0 >> "$work/r"
    fi
  done
  gbs() { awk -v b="$bytes" -v t="$(median < "$1")" 'BEGIN { if (t > 0) printf "%6.2f GB/s", b / t; else printf "%11s", "-" }'; }
  printf '%-8s %-6s %12s %12s %12s %12s\n' "$n" "${size}MiB" "$(gbs "$work/d")" "$(gbs "$work/e")" "$(gbs "$work/l")" "$(gbs "$work/r")"
done
