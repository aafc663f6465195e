#!/usr/bin/env bash
# make-prompts.sh — renders the built-in satisfaction-survey prompts (callflow/prompts/*.wav,
# 8 kHz mono PCM16) with espeak-ng's Mandarin voice and sox. They are committed and embedded
# in the binary, so the gateway needs no TTS; run this only to change their wording.
set -euo pipefail
cd "$(dirname "$0")/.."
render() { # file text
  espeak-ng -v cmn -s 165 -w /tmp/prompt-$$.wav "$2"
  sox /tmp/prompt-$$.wav -r 8000 -c 1 -b 16 "callflow/prompts/$1" gain -n -3 silence 1 0.05 1% reverse silence 1 0.05 1% reverse
  rm -f /tmp/prompt-$$.wav
}
render survey.wav "满意请按1，基本满意请按2，不满意请按3。"
render thanks.wav "感谢您的评价，再见。"
