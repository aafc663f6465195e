#!/usr/bin/env bash
# Estimates the telephone-band and wideband cepstral-mean start values on the project's own
# synthetic speech: every 40th sentence of the expanded domain corpus (never the test
# sentences of testdata/asr), spoken in turn by flite's voices and espeak-ng, at 16 kHz and
# through telephone band (8 kHz µ-law, as a G.711 call delivers it).
# Usage: asr/pocketsphinx/cmd/cmnest/estimate.sh   (from the repository root)
set -euo pipefail
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
go build -o "$T/cmnest" ./asr/pocketsphinx/cmd/cmnest
go run ./asr/pocketsphinx/cmd/cmnest/corpus <asr/pocketsphinx/lm/hotline.txt | awk 'NR % 40 == 7' >"$T/sents"
voices=(slt rms awb kal16 espeak)
i=0
while read -r s; do
  v=${voices[$((i % 5))]}
  if [ "$v" = espeak ]; then espeak-ng -v en-us -s 150 -w "$T/raw.wav" "$s"; else flite -voice "$v" -t "$s" -o "$T/raw.wav"; fi
  sox -D "$T/raw.wav" -r 16000 -c 1 -b 16 -e signed-integer "$T/wb-$i.wav" pad 0.3 0.3
  sox -D "$T/wb-$i.wav" -r 8000 -c 1 -e mu-law -b 8 "$T/nb-$i.wav"
  i=$((i + 1))
done <"$T/sents"
echo "sentences: $i"
echo "wideband:  $("$T/cmnest" "$T"/wb-*.wav)"
echo "telephone: $("$T/cmnest" "$T"/nb-*.wav)"
