#!/usr/bin/env bash
# Measures the Go writer against the Rust core and the Go baselines on the same corpus and
# prints the README's table. Machines shared with other work are noisy, so the fast
# benchmarks (the core, the writer, io.Copy) run in ROUNDS interleaved rounds and each keeps
# its best round; the slow baselines run once. The writer / core ratio is the median over the
# rounds of BenchmarkWriterVsCore, which alternates the two passes so that both see the same
# load.
#
#     bindings/go/bench.sh [ROUNDS]      # default 5; from any directory
set -euo pipefail
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
rounds=${1:-5}
export GOPROXY=off

(cd "$root" && cargo build --release -q -p logmask-ffi)
native=$(cd "$root" && cargo run --release -q -p logmask-ffi --example bench_core)
go test -c -o "$root/target/logmask-go-bench" .
bench() { "$root/target/logmask-go-bench" -test.run '^$' -test.bench "$1" -test.benchtime "$2"; }
{
    for _ in $(seq "$rounds"); do bench 'Copy|Writer|Core' 3x; done
    bench 'StringsReplacer' 3x
    bench 'BytesReplaceAll' 1x
    # The Rust example's own figures, in the same shape as a Go benchmark line.
    echo "$native" | awk '/rust core/ { printf "BenchmarkNative/secrets=%s-0 1 1 ns/op %s MB/s %s cpu-MB/s\n", $4, $6, $8 }'
} | awk '
    /^Benchmark/ {
        name = $1; sub(/-[0-9]+$/, "", name); sub(/^Benchmark/, "", name)
        for (i = 2; i <= NF; i++) {
            if ($i == "MB/s" && $(i-1) + 0 > wall[name]) wall[name] = $(i-1) + 0
            if ($i == "cpu-MB/s" && $(i-1) + 0 > cpu[name]) cpu[name] = $(i-1) + 0
            if ($i == "writer/core") ratios[name] = ratios[name] " " $(i-1)
        }
    }
    function median(list,    v, n, i, j, t) {
        n = split(list, v, " ")
        for (i = 2; i <= n; i++) for (j = i; j > 1 && v[j-1] + 0 > v[j] + 0; j--) { t = v[j]; v[j] = v[j-1]; v[j-1] = t }
        return n % 2 ? v[(n+1)/2] : (v[n/2] + v[n/2+1]) / 2
    }
    function f(name) { return sprintf("%.0f (%.0f)", cpu[name], wall[name]) }
    END {
        print "Throughput in MB/s per CPU second (in parentheses: per wall-clock second), best round."
        printf "io.Copy in 32 KiB writes: %s\n\n", f("Copy")
        print "| secrets | Rust core, Rust loop | Rust core, C loop | Go writer | writer / core, paired | strings.Replacer | bytes.ReplaceAll per secret | writer / Replacer | writer / ReplaceAll |"
        print "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        split("1 100 1000", sizes, " ")
        for (i = 1; i <= 3; i++) {
            n = "secrets=" sizes[i]
            w = cpu["Writer/" n]; c = cpu["Core/" n]; r = cpu["StringsReplacer/" n]; a = cpu["BytesReplaceAll/" n]
            printf "| %s | %s | %s | %s | %.2f | %s | %s | %.1fx | %.0fx |\n", sizes[i], f("Native/" n),
                f("Core/" n), f("Writer/" n), median(ratios["WriterVsCore/" n]), f("StringsReplacer/" n),
                f("BytesReplaceAll/" n), w / r, w / a
        }
    }'
