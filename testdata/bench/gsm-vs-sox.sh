#!/usr/bin/env bash
# gsm-vs-sox.sh [REPS] — how long `callscope decode` takes to turn one hour of raw GSM
# 06.10 into s16le, against sox doing the same, on this machine.
#
# Both are run as a user runs them, one process per decode, start-up included, on the
# same input (the speech corpus repeated to 180,000 frames, 5.9 MB) warm in the page
# cache, both writing a plain file in the same directory:
#   sox -t gsm hour.gsm -t raw -e signed -b 16 sox.raw
#   callscope decode hour.gsm --format s16le -o - >callscope.raw
# `callscope decode -o FILE` does more than that: it writes a temporary file, fsyncs it
# and renames it into place, so that a crash never leaves half a file. That run is
# timed too and shown on its own line; the disk's flush is in its wall time, not in
# the comparison.
#
# The commands run in turn REPS times (default 5) after one untimed warm-up each; the
# script prints the median wall time and the median CPU time (user+system) of each,
# the ratios, and checks that the outputs are identical byte for byte. On a busy
# machine trust the CPU ratio more than the wall ratio. The Go benchmarks measure the
# decoder alone, the same file-to-file job in-process, and sox, in one run:
#   go test ./audio/gsm -run XXX -bench Hour -benchtime 3x
set -euo pipefail
cd "$(dirname "$0")/../.."

reps=${1:-5}
case $reps in '' | *[!0-9]* | 0) echo "gsm-vs-sox.sh: REPS must be a positive number, got '$reps'" >&2; exit 2 ;; esac
command -v sox >/dev/null || { echo "gsm-vs-sox.sh: sox is not installed (apt-get install sox libsox-fmt-all)" >&2; exit 1; }
# sox -h exits 1 after printing its help, so read the help into a variable first.
formats=$(sox -h 2>&1 || true)
grep -qw gsm <<<"$formats" || { echo "gsm-vs-sox.sh: this sox cannot read GSM (apt-get install libsox-fmt-all)" >&2; exit 1; }
command -v go >/dev/null || { echo "gsm-vs-sox.sh: go is not on PATH; it is needed to build callscope" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

go build -o "$tmp/callscope" ./cmd/callscope
# speech.gsm is 375 frames; 480 copies are exactly one hour.
for _ in $(seq 480); do cat testdata/gsm/speech.gsm; done >"$tmp/hour.gsm"
[ "$(wc -c <"$tmp/hour.gsm")" -eq $((180000 * 33)) ] || { echo "gsm-vs-sox.sh: hour.gsm has the wrong size" >&2; exit 1; }

# Each command's own messages go to a file, so that only `time` writes to stderr.
run_sox() { sox -t gsm "$tmp/hour.gsm" -t raw -e signed -b 16 "$tmp/sox.raw" 2>"$tmp/sox.err"; }
run_callscope() { "$tmp/callscope" decode "$tmp/hour.gsm" --format s16le -o - >"$tmp/callscope.raw" 2>"$tmp/callscope.err"; }
run_callscope_o() { "$tmp/callscope" decode "$tmp/hour.gsm" --format s16le -o "$tmp/callscope-o.raw" 2>"$tmp/callscope-o.err"; }

# timed NAME: runs run_NAME once and appends "wall cpu" in seconds to $tmp/NAME.times.
timed() {
	local TIMEFORMAT='%R %U %S' t
	t=$( { time "run_$1" >/dev/null; } 2>&1 ) || { echo "gsm-vs-sox.sh: $1 failed: $t" >&2; exit 1; }
	awk '{ printf "%.3f %.3f\n", $1, $2 + $3 }' <<<"$t" >>"$tmp/$1.times"
}

# median COLUMN FILE
median() { sort -n -k"$1","$1" "$2" | awk -v c="$1" '{ v[NR] = $c } END { print v[int((NR + 1) / 2)] }'; }

run_sox
run_callscope
run_callscope_o
for f in callscope callscope-o; do
	cmp -s "$tmp/sox.raw" "$tmp/$f.raw" || { echo "gsm-vs-sox.sh: callscope's output ($f.raw) differs from sox's" >&2; exit 1; }
done

echo "timing $reps runs of each..." >&2
for _ in $(seq "$reps"); do
	timed sox
	timed callscope
	timed callscope_o
done

sw=$(median 1 "$tmp/sox.times") sc=$(median 2 "$tmp/sox.times")
cw=$(median 1 "$tmp/callscope.times") cc=$(median 2 "$tmp/callscope.times")
ow=$(median 1 "$tmp/callscope_o.times") oc=$(median 2 "$tmp/callscope_o.times")
echo "one hour of raw GSM 06.10 (180,000 frames) to s16le, median of $reps runs each"
echo "machine: $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//'), $(nproc) CPUs; $(go version | cut -d' ' -f3); $(sox --version | sed 's/.*SoX //')"
printf '%-28s %8s %8s\n' "" "wall s" "cpu s"
printf '%-28s %8s %8s\n' "sox" "$sw" "$sc" "callscope decode -o - >file" "$cw" "$cc" "callscope decode -o file" "$ow" "$oc"
awk -v sw="$sw" -v sc="$sc" -v cw="$cw" -v cc="$cc" -v ow="$ow" -v oc="$oc" 'BEGIN {
	printf "callscope / sox: %.2f× the wall time, %.2f× the CPU time\n", cw / sw, cc / sc
	printf "with -o file (temporary file, fsync, rename): %.2f× the wall time, %.2f× the CPU time\n", ow / sw, oc / sc
}'
echo "outputs identical: yes"
