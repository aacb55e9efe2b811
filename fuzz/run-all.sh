#!/bin/sh
# Runs every fuzz target (or those named) for SECONDS each, one after the other, one
# process at a time, at low priority; prints each one's final libFuzzer stats.
#
#   fuzz/run-all.sh [SECONDS] [TARGET...]      (default: 240 seconds, every target)
#
# Logs go to fuzz/logs/<target>.log; findings to fuzz/artifacts/<target>/.
set -eu
cd "$(dirname "$0")"
seconds=${1:-240}
[ $# -gt 0 ] && shift
targets=${*:-"jar mar udif hfs apk pieces tar zip dmg strings locales"}
mkdir -p logs
cargo fuzz build --sanitizer none
for t in $targets; do
    # strings: 64 KiB holds a .ftl nested 12,000 deep in one half (a 9 KB file nested
    # 3,000 deep overflowed a worker's stack, issue 15); see seeds.py's deep_seeds.
    case $t in
        strings | pieces) max_len=65536 ;;
        *) max_len=1048576 ;;
    esac
    mkdir -p "corpus/$t"
    status=0
    nice -n 10 cargo fuzz run "$t" --sanitizer none -- \
        -max_total_time="$seconds" -rss_limit_mb=2048 -max_len="$max_len" -timeout=30 \
        -print_final_stats=1 >"logs/$t.log" 2>&1 || status=$?
    units=$(sed -n 's/^stat::number_of_executed_units: *//p' "logs/$t.log")
    last=$(grep -E '^#[0-9]+' "logs/$t.log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+')
    echo "$t: exit $status, runs ${units:-?}, ${last:-no coverage line}"
done
