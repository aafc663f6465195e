#!/usr/bin/env bash
# deps.sh run|test — makes sure the Debian packages that `make run` or `make test` need are
# installed: installs the missing ones when running as root, otherwise names them and fails.
set -euo pipefail
run_pkgs="libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us gcc pkg-config libopus-dev libopusfile-dev"
test_pkgs="$run_pkgs fonts-noto-cjk sip-tester baresip espeak-ng flite sox libsox-fmt-all pocketsphinx pocketsphinx-testdata chromium poppler-utils prometheus python3 curl iproute2 ffmpeg"
case "${1:-test}" in
run) want=$run_pkgs ;;
test) want=$test_pkgs ;;
*) echo "usage: deps.sh run|test" >&2; exit 2 ;;
esac
missing=()
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing Debian packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing Debian packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
