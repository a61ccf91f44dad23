#!/usr/bin/env bash
# Pretest: the end-to-end tests drive real peers (ffmpeg, nginx with the RTMP module, php-cli).
# Installs what is missing when running as root with apt-get; otherwise names exactly what to install.
set -euo pipefail
need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v nginx >/dev/null 2>&1 || need+=(nginx)
[ -e /usr/lib/nginx/modules/ngx_rtmp_module.so ] || need+=(libnginx-mod-rtmp)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "pretest: installing ${need[*]} (Debian packages used by the end-to-end tests)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y --no-install-recommends "${need[@]}" >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y --no-install-recommends "${need[@]}" >/dev/null; }
  # the nginx package starts a system nginx on port 80; the tests run their own
  (command -v systemctl >/dev/null && systemctl stop nginx 2>/dev/null) || true
  exit 0
fi
echo "pretest: the end-to-end tests need these Debian packages: ${need[*]}" >&2
echo "         install them with: sudo apt-get install -y ${need[*]}" >&2
exit 1
