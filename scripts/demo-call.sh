#!/usr/bin/env bash
# demo-call.sh — with `make run` going in another terminal: one baresip registers as seat-01
# (auto-answer, speaking testdata/audio/agent.wav), another baresip dials 12345 (speaking
# testdata/audio/caller.wav). Prints what the seat heard and where the call's recording is.
# Usage: scripts/demo-call.sh [SIP host:port] [seat password] [data dir]
set -euo pipefail
cd "$(dirname "$0")/.."
sip=${1:-127.0.0.1:5060}
pass=${2:-lianxin}
data=${3:-./data}
command -v baresip >/dev/null || { echo "needs baresip (apt-get install baresip)"; exit 1; }
T=$(mktemp -d /tmp/lianxin-demo.XXXX)
sox -D testdata/audio/agent.wav "$T/agent.wav" pad 0 30
conf() { # dir port audio
  mkdir -p "$1/rec"
  cat >"$1/config" <<CFG
module_path /usr/lib/baresip/modules
sip_listen 127.0.0.1:$2
net_interface 127.0.0.1
audio_source aufile,$3
audio_player aubridge,nil
audio_alert aubridge,nil
ausrc_srate 8000
auplay_srate 8000
ausrc_channels 1
auplay_channels 1
rtp_ports $(( $2 * 4 ))-$(( $2 * 4 + 40 ))
snd_path $1/rec
module g711.so
module aufile.so
module aubridge.so
module sndfile.so
module_tmp uuid.so
module_tmp account.so
module_app menu.so
CFG
}
conf "$T/seat" 5290 "$T/agent.wav"
echo "<sip:seat-01@$sip;transport=udp>;auth_user=seat-01;auth_pass=$pass;regint=60;answermode=auto;audio_codecs=pcmu,pcma" >"$T/seat/accounts"
conf "$T/caller" 5292 "$(pwd)/testdata/audio/caller.wav"
echo "<sip:caller@$sip;transport=udp>;regint=0;audio_codecs=pcmu,pcma" >"$T/caller/accounts"
baresip -f "$T/seat" -t 40 >"$T/seat.log" 2>&1 &
seat=$!
trap '{ kill $seat; wait $seat; } 2>/dev/null || true' EXIT
for i in $(seq 40); do grep -q "200 OK" "$T/seat.log" && break; sleep 0.25; done
grep -q "200 OK" "$T/seat.log" || { echo "seat-01 did not register:"; tail -5 "$T/seat.log"; exit 1; }
echo "seat-01 registered; calling 12345 …"
timeout 40 baresip -f "$T/caller" -e "/dial sip:12345@$sip" -t 20 >"$T/caller.log" 2>&1 || true
grep -E "established|Call established" "$T/caller.log" | head -1 || { echo "the call did not connect:"; tail -5 "$T/caller.log"; }
kill $seat; wait $seat 2>/dev/null || true
echo "the seat heard: $(ls "$T"/seat/rec/*-dec.wav 2>/dev/null | head -1)"
echo "the call's recording: $(ls -t "$data"/recordings/*/*.wav 2>/dev/null | head -1)"
