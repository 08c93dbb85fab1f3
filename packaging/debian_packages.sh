#!/bin/sh
# The Debian/Ubuntu packages Qt needs on Linux, in one place: `.ci/run` installs them, `make demo`
# checks for them before it opens a window.
#
#   sh packaging/debian_packages.sh list offscreen|x11   the package names, one line
#   sh packaging/debian_packages.sh missing offscreen|x11   those not installed (dpkg-query)
#
# offscreen: what Qt loads at all (tests, `--smoke`). x11: a real window on an X server, which
# also needs the xcb helper libraries, and a CJK font: the window speaks Japanese with the
# system's fonts (Qt falls back to one that has the glyphs; without any, boxes). When one of those is missing Qt names libxcb-cursor0
# whatever the real gap is (QT_DEBUG_PLUGINS=1 shows it; on a fresh Debian desktop it was
# libxcb-icccm4 and libxcb-keysyms1), so the check asks dpkg instead of reading Qt's error.
set -eu

offscreen="libegl1 libgl1 libx11-6 libdbus-1-3 libfontconfig1 libfreetype6 libglib2.0-0
libxkbcommon0 fonts-dejavu-core"
x11="$offscreen libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-render-util0
libxcb-shape0 libxcb-xkb1 libxkbcommon-x11-0 fonts-noto-cjk"

case "${2:-}" in
  offscreen) packages=$offscreen ;;
  x11) packages=$x11 ;;
  *) echo "usage: $0 list|missing offscreen|x11" >&2; exit 2 ;;
esac

case "$1" in
  list) echo $packages ;;
  missing)
    missing=""
    for p in $packages; do
      dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
    done
    echo $missing ;;
  *) echo "usage: $0 list|missing offscreen|x11" >&2; exit 2 ;;
esac
