#!/usr/bin/env bash
# The pipe benchmark: the release binary against `cat` on the same input, in the same run.
#
#   bash benches/pipe.sh [SIZE_MIB] [RUNS] [SECRET_COUNTS...]
#
# For each secret count (default: 1 100 10000) it generates a realistic CI log of SIZE_MIB
# MiB (default 1024) with a secret every MiB on average, then times, alternating, RUNS times
# (default 5) each:
#     cat LOG | cat > /dev/null                      (the pipe limit of a filter)
#     cat LOG | logmask -f SECRETS > /dev/null
# and prints the medians, the throughput and the ratio cat/logmask (1.0 = as fast as cat),
# with logmask's peak resident memory. It also checks that the output is masked.
# LOGMASK_ARGS adds options, e.g. LOGMASK_ARGS="--encodings none --no-token-shapes".
# FROM=file times the file itself instead of a pipe: `cat LOG > /dev/null` against
# `logmask -f SECRETS LOG > /dev/null`.
set -euo pipefail
cd "$(dirname "$0")/.."

size=${1:-1024}
runs=${2:-5}
shift $(( $# < 2 ? $# : 2 ))
counts=("$@")
[ ${#counts[@]} -gt 0 ] || counts=(1 100 10000)

cargo build --release --quiet --bin logmask --example gen_log
bin=target/release/logmask
# BENCH_DIR=/dev/shm keeps the logs in tmpfs: a disk-backed page cache can drop their pages
# between runs and read them again, which times the disk (DESIGN.md, "Session 11").
work=$(mktemp -d ${BENCH_DIR:+-p "$BENCH_DIR"})
trap 'rm -rf "$work"' EXIT

now() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

printf '%-9s %-10s %14s %14s %8s %10s\n' secrets size "cat ms (GB/s)" "logmask ms (GB/s)" ratio "peak RSS"
for n in "${counts[@]}"; do
  log=$work/log secrets=$work/secrets
  target/release/examples/gen_log "$log" "$secrets" "$size" "$n"
  bytes=$(stat -c %s "$log")
  # The output must be masked, and as the input is otherwise unchanged, only shorter.
  masked=$("$bin" -f "$secrets" ${LOGMASK_ARGS:-} < "$log" | grep -c '\[MASKED\]' || true)
  [ "$masked" -gt 0 ] || { echo "no [MASKED] in the output for $n secrets" >&2; exit 1; }
  cat "$log" > /dev/null   # warm the page cache
  : > "$work/cat" ; : > "$work/lm"
  for _ in $(seq "$runs"); do
    if [ "${FROM:-pipe}" = file ]; then
      t=$(now); cat "$log" > /dev/null; echo $(( ($(now) - t) / 1000 )) >> "$work/cat"
      t=$(now); "$bin" -f "$secrets" ${LOGMASK_ARGS:-} "$log" > /dev/null; echo $(( ($(now) - t) / 1000 )) >> "$work/lm"
    else
      t=$(now); cat "$log" | cat > /dev/null; echo $(( ($(now) - t) / 1000 )) >> "$work/cat"
      t=$(now); cat "$log" | "$bin" -f "$secrets" ${LOGMASK_ARGS:-} > /dev/null; echo $(( ($(now) - t) / 1000 )) >> "$work/lm"
    fi
  done
  rss=$( { cat "$log" | /usr/bin/time -f '%M' "$bin" -f "$secrets" ${LOGMASK_ARGS:-} > /dev/null; } 2>&1 | tail -1 ) || rss='?'
  c=$(median < "$work/cat"); l=$(median < "$work/lm")
  awk -v n="$n" -v s="${size}MiB" -v b="$bytes" -v c="$c" -v l="$l" -v r="$rss" 'BEGIN {
    printf "%-9s %-10s %6.0f (%4.2f) %8.0f (%4.2f) %8.2f %7.1f MiB\n", n, s, c/1000, b/c/1000, l/1000, b/l/1000, c/l, r/1024 }'
done
