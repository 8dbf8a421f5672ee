#!/usr/bin/env bash
# Regenerates the audio test corpus in testdata/audio/ and the sample call recordings in
# testdata/recordings/. Needs sox (with its bundled libgsm), espeak-ng and go.
#
# Every encoded file gets sox's own decode beside it as <file>.s16le (raw signed 16-bit little-endian,
# the file's own channels and rate): that is the reference our decoders must match sample by sample.
# sox is run with -D (no dither) and espeak-ng is deterministic, so running this twice gives the same bytes.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rec="$root/testdata/recordings"
for tool in sox espeak-ng go; do
	command -v "$tool" >/dev/null || { echo "gen.sh: $tool is needed (apt-get install sox espeak-ng)" >&2; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Start from a clean slate so files from an older layout do not linger.
find "$here" -maxdepth 1 -type f ! -name gen.sh ! -name README.md -delete
rm -rf "$here/broken"
mkdir -p "$rec"
rm -f "$rec"/*.gsm "$rec"/*.wav

sx() { sox -D -V1 "$@"; }

# ref FILE [sox input options...]: write sox's decode of FILE beside it.
ref() {
	local f=$1; shift
	sx "$@" "$f" -t raw -e signed -b 16 -L "$f.s16le"
}

# encode SRC.wav NAME: every format we read, from one 8 kHz mono 16-bit source.
encode() {
	local src=$1 name=$2
	sx "$src" -t gsm "$here/$name-gsm.gsm";                     ref "$here/$name-gsm.gsm"
	sx "$src" -t wav -e gsm-full-rate "$here/$name-wav49.wav";  ref "$here/$name-wav49.wav"
	sx "$src" -t wav -e a-law "$here/$name-alaw.wav";           ref "$here/$name-alaw.wav"
	sx "$src" -t wav -e u-law "$here/$name-ulaw.wav";           ref "$here/$name-ulaw.wav"
	sx "$src" -t wavpcm -e signed -b 16 "$here/$name-pcm16.wav"; ref "$here/$name-pcm16.wav"
	sx "$src" -t wavpcm -e unsigned -b 8 "$here/$name-pcm8.wav"; ref "$here/$name-pcm8.wav"
	sx "$src" -t al "$here/$name-alaw.al";                      ref "$here/$name-alaw.al" -t al -r 8000 -c 1
	sx "$src" -t ul "$here/$name-ulaw.ul";                      ref "$here/$name-ulaw.ul" -t ul -r 8000 -c 1
	sx "$src" -t raw -e signed -b 16 -L "$here/$name.sln";      ref "$here/$name.sln" -t raw -e signed -b 16 -L -r 8000 -c 1
}

# Speech: a short espeak-ng phrase resampled to telephone rate.
espeak-ng -v en-us -s 165 -w "$tmp/speech-raw.wav" "Your call may be recorded."
sx "$tmp/speech-raw.wav" -r 8000 -c 1 -b 16 "$tmp/speech.wav"
encode "$tmp/speech.wav" speech

# Edge signals: digital silence, white noise driven into clipping, and a length (1234 samples) that is
# not a multiple of a GSM frame (160) or a WAV49 block (320).
sx -n -r 8000 -c 1 -b 16 "$tmp/silence.wav" trim 0 0.5
encode "$tmp/silence.wav" silence
sx -R -n -r 8000 -c 1 -b 16 "$tmp/noise.wav" synth 0.3 whitenoise vol 4 2>/dev/null
encode "$tmp/noise.wav" noise-clipped
sx -n -r 8000 -c 1 -b 16 "$tmp/odd.wav" synth 1234s sine 440
encode "$tmp/odd.wav" odd-length

# Other rates and channel counts.
sx "$tmp/speech-raw.wav" -r 16000 -c 1 -b 16 -t raw -e signed -L "$here/speech-16k.sln16"
ref "$here/speech-16k.sln16" -t raw -e signed -b 16 -L -r 16000 -c 1
sx "$tmp/speech-raw.wav" -r 11025 -c 1 -b 16 -t wavpcm "$here/speech-11025-pcm16.wav"
ref "$here/speech-11025-pcm16.wav"
sx "$tmp/speech.wav" -t wavpcm -b 16 "$here/speech-stereo-pcm16.wav" remix 1 1v0.5
ref "$here/speech-stereo-pcm16.wav"

# Every A-law and µ-law code once, for the G.711 tables.
printf "$(printf '\\x%02x' $(seq 0 255))" >"$tmp/codes.bin"
cp "$tmp/codes.bin" "$here/codes.al"; ref "$here/codes.al" -t al -r 8000 -c 1
cp "$tmp/codes.bin" "$here/codes.ul"; ref "$here/codes.ul" -t ul -r 8000 -c 1

# Broken and unusual files are built from the good ones by a small Go program.
(cd "$root" && go run ./testdata/audio/mkbroken "$here")

# Call recordings for the PBX simulator: two speakers taking turns, with pauses between turns.
# say N VOICE TEXT: one turn followed by PAUSE seconds of silence.
say() {
	local n=$1 voice=$2 pause=$3 text=$4
	espeak-ng -v "$voice" -s 160 -w "$tmp/espeak-turn.wav" "$text"
	sx "$tmp/espeak-turn.wav" -r 8000 -c 1 -b 16 "$tmp/turn-$n.wav" pad 0 "$pause"
}
dialogue() {
	local out=$1; shift
	rm -f "$tmp"/turn-*.wav
	local n=10 voice pause text
	while [ $# -ge 3 ]; do
		voice=$1 pause=$2 text=$3; shift 3
		say "$n" "$voice" "$pause" "$text"; n=$((n + 1))
	done
	sx "$tmp"/turn-*.wav "$out"
}
dialogue "$tmp/call1.wav" \
	en-us 0.8 "Good morning, you are through to support, this is Anna. How can I help?" \
	en-gb+m3 1.2 "Hi Anna. Our phones stopped ringing in the warehouse since this morning." \
	en-us 2.0 "I am sorry to hear that. Let me look at your account. Can you give me the extension number?" \
	en-gb+m3 0.7 "It is extension two one four." \
	en-us 0.5 "Thank you. I can see the handset went offline at seven. I will reset it now."
sx "$tmp/call1.wav" -t gsm "$rec/support-call.gsm"
dialogue "$tmp/call2.wav" \
	en-us+f3 0.9 "Accounts department, Maria speaking." \
	en-us+m2 1.0 "Hello, I have a question about my last invoice. It seems higher than usual." \
	en-us+f3 1.5 "Of course. Could you read me the invoice number?" \
	en-us+m2 0.6 "Sure, it is four four seven nine." \
	en-us+f3 0.5 "I see an extra line for international calls. I will send you the breakdown by email."
sx "$tmp/call2.wav" -t wav -e gsm-full-rate "$rec/billing-call-wav49.wav"
dialogue "$tmp/call3.wav" \
	en-gb 0.7 "Sales, good afternoon." \
	en-us+f2 1.1 "Hi, I would like a quote for twenty new desk phones." \
	en-gb 1.3 "Certainly. Do you need them with the conference feature?" \
	en-us+f2 0.5 "Yes please, and delivery by next Friday."
sx "$tmp/call3.wav" -t wav -e a-law "$rec/sales-call-alaw.wav"
dialogue "$tmp/call4.wav" \
	en-us+m3 0.8 "Hello, this is a callback about your missed call." \
	en-us+f4 1.0 "Oh yes, thanks for calling back. I wanted to change my voicemail greeting." \
	en-us+m3 1.4 "No problem. Dial star nine seven and follow the prompts." \
	en-us+f4 0.5 "Great, thank you. Bye."
sx "$tmp/call4.wav" -t wav -e u-law "$rec/callback-ulaw.wav"

du -sh "$here" "$rec"
