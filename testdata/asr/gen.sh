#!/usr/bin/env bash
# Regenerates the ASR fixtures from sentences.tsv: wav16/ID.wav (16 kHz mono PCM16) and
# wav/ID.wav (telephone band: 8 kHz G.711 µ-law WAV, format code 7), plus refs.tsv.
# Needs flite, espeak-ng and sox (Debian). -D turns dither off so output is reproducible.
# Usage: testdata/asr/gen.sh [SENTENCES.tsv OUTDIR]   (default: this directory's own set)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(realpath "${1:-$here/sentences.tsv}")
mkdir -p "${2:-$here}"
cd "${2:-$here}"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
mkdir -p wav16 wav
: >refs.tsv
speak() { # voice text out.wav  → 16 kHz mono PCM16 with 0.4 s lead and 0.6 s trail silence
  local voice=$1 text=$2 out=$3
  if [ "$voice" = espeak ]; then
    espeak-ng -v en-us -s 150 -w "$T/raw.wav" "$text"
  else
    flite -voice "$voice" -t "$text" -o "$T/raw.wav"
  fi
  sox -D "$T/raw.wav" -r 16000 -c 1 -b 16 -e signed-integer "$out" pad 0.4 0.6
}
grep -v '^#' "$src" | while IFS=$'\t' read -r id voice text; do
  [ -n "$id" ] || continue
  parts=()
  IFS='|' read -r -a utts <<<"$text"
  i=0
  for u in "${utts[@]}"; do
    speak "$voice" "$u" "$T/$id-$i.wav"
    parts+=("$T/$id-$i.wav")
    i=$((i + 1))
  done
  sox -D "${parts[@]}" wav16/"$id".wav
  sox -D wav16/"$id".wav -r 8000 -c 1 -e mu-law -b 8 wav/"$id".wav
  printf '%s\t%s\n' "$id" "${text//|/ }" >>refs.tsv
done
du -sh wav16 wav
