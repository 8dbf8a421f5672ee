#!/bin/sh
# Regenerates the GSM 06.10 test corpus in this folder: inputs encoded by sox (raw
# .gsm and WAV49 .wav49.wav) and sox's decode of each (.ref.raw, signed 16-bit
# little-endian mono, 8 kHz), which audio/gsm must reproduce sample for sample.
#
# Made with (Debian 12): sox 14.4.2+git20190427-3.5 linked to libgsm1 1.0.22-1,
# espeak-ng 1.51+dfsg-10+deb12u2, Go 1.26. Other versions may change the encoded
# inputs; the references stay valid because they are regenerated from those inputs.
# Re-running with the same versions rewrites identical files.
set -eu
cd "$(dirname "$0")"

for tool in sox espeak-ng go; do
	command -v "$tool" >/dev/null || { echo "gen.sh: $tool is not installed (apt-get install sox espeak-ng)" >&2; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# -R: fixed random seed (noise); -D: no dither, so every run gives the same bytes.
sx() { sox -R -D -V1 "$@"; }
pcm="-r 8000 -c 1 -b 16 -e signed"

espeak-ng -v en-us -s 165 -w "$tmp/speech22k.wav" \
	"Thank you for calling support. Your call may be recorded for quality and training purposes. Press one for sales."
sx "$tmp/speech22k.wav" $pcm "$tmp/speech.wav"
sx "$tmp/speech.wav" "$tmp/odd.wav" trim 0 12345s            # not a multiple of 160 samples
sx -n $pcm "$tmp/silence.wav" trim 0 0.5
sx -n $pcm "$tmp/noise.wav" synth 1 whitenoise vol 4        # clipped white noise
sx -n $pcm "$tmp/sweep.wav" synth 2 sine 50-3950 vol 0.9
sx -n $pcm "$tmp/square.wav" synth 0.5 square 300           # full scale: saturation

for name in speech odd silence noise sweep square; do
	sx "$tmp/$name.wav" -t gsm "$name.gsm"
	sx "$name.gsm" -t raw -e signed -b 16 "$name.ref.raw"
	sx "$tmp/$name.wav" -t wav -e gsm-full-rate "$name.wav49.wav"
	sx "$name.wav49.wav" -t raw -e signed -b 16 "$name.wav49.ref.raw"
done

go run randframes.go
sx -t gsm -r 8000 -c 1 random.gsm -t raw -e signed -b 16 random.ref.raw
sx random.wav49.wav -t raw -e signed -b 16 random.wav49.ref.raw
