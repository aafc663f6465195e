#!/usr/bin/env bash
# Accuracy and speed of the embedded recogniser (pocketsphinx): not a timed test, a measurement.
#   WER + real-time factor on testdata/asr (wideband 16 kHz and telephone band 8 kHz µ-law)
#   and on Debian's librivox clips (real read speech; telephone band made with sox), for the
#   file configuration (gateway transcribe: second pass) and the live one; then streams fed in
#   real time: end of speech → final latency, dropped frames, memory per decoder.
# Usage: scripts/bench-asr.sh [LIVE_SECONDS]     (docs/asr.md has the figures)
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-30}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
go build -o "$T/psbench" ./asr/pocketsphinx/cmd/psbench

# librivox clips as a refs.tsv set (transcription lines: "<s> text </s> (id)")
L=/usr/share/pocketsphinx/test/data/librivox
if [ -d "$L" ]; then
  mkdir -p "$T/librivox/wav16" "$T/librivox/wav"
  sed -E 's/^<s> (.*) <\/s> \((.*)\)$/\2\t\1/' "$L/transcription" >"$T/librivox/refs.tsv"
  for f in "$L"/*.wav; do
    id=$(basename "$f" .wav)
    ln -s "$f" "$T/librivox/wav16/$id.wav"
    sox -D "$f" -r 8000 -c 1 -e mu-law -b 8 "$T/librivox/wav/$id.wav"
  done
fi

echo "# $(date -u +%FT%TZ) $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "## WER and RTF (one decoder, files fed as fast as it decodes)"
for set in wav16 wav; do
  for dir in testdata/asr ${L:+"$T/librivox"}; do
    [ -d "$dir/$set" ] || continue
    printf 'file config (gateway transcribe): '; "$T/psbench" wer -second -set "$set" "$dir" | tail -1
    printf 'live config (hotline LM):         '; "$T/psbench" wer -lm domain -set "$set" "$dir" | tail -1
  done
done
echo "## live: streams fed in real time (telephone band), ${SECS}s each"
for n in 1 4 12; do
  printf 'hotline LM (live config):   '; "$T/psbench" live -lm domain -streams "$n" -secs "$SECS" testdata/asr/wav/*.wav
done
printf 'interpolated LM:            '; "$T/psbench" live -streams 4 -secs "$SECS" testdata/asr/wav/*.wav
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
