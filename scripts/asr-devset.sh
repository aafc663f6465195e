#!/usr/bin/env bash
# Builds the embedded recogniser's development set: the English case texts of the dispatch
# held-out set (written for dispatch, never in the domain language model's corpus and never
# in testdata/asr), spoken in turn by flite's voices and espeak-ng like testdata/asr.
# Tuning (language weight, domain share, beams) happens on this set; testdata/asr is only
# measured. Usage: scripts/asr-devset.sh OUTDIR
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/asr-devset.sh OUTDIR}
mkdir -p "$out"
python3 - testdata/dispatch/heldout/*.jsonl >"$out/sentences.tsv" <<'PY'
import json, re, sys
voices = ["slt", "rms", "awb", "espeak", "kal16"]
n = 0
for path in sorted(sys.argv[1:]):
    for line in open(path, encoding="utf-8"):
        case = json.loads(line)
        if case["lang"] != "en":
            continue
        text = " ".join(re.sub(r"[^a-z' ]+", " ", case["text"].lower()).split())
        print(f"dev-{n + 1:03d}\t{voices[n % len(voices)]}\t{text}")
        n += 1
PY
testdata/asr/gen.sh "$out/sentences.tsv" "$out" >/dev/null
echo "$(wc -l <"$out/refs.tsv") sentences in $out"
