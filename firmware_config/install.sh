#!/usr/bin/env bash
# Install the scanner on Raspberry Pi OS: Bookworm (Python 3.11, tflite-runtime) or Trixie (Python 3.13,
# ai-edge-litert). Run from a checkout of the project:  sudo firmware_config/install.sh
#
# picamera2 and OpenCV come from apt (they are built against the Pi's libcamera and display stack); the
# venv is made with --system-site-packages so it sees them, and pip adds the rest.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then echo "run as root: sudo $0" >&2; exit 1; fi
SRC=$(cd "$(dirname "$0")/.." && pwd)
PREFIX=/opt/scanner
. /etc/os-release
case "${VERSION_CODENAME:-}" in
  bookworm) RUNTIME=tflite ;;   # tflite-runtime 2.14: Python <= 3.11, numpy < 2
  trixie)   RUNTIME=litert ;;   # ai-edge-litert: Python 3.13, numpy 2
  *) echo "unsupported OS '${PRETTY_NAME:-unknown}': Raspberry Pi OS Bookworm or Trixie expected" >&2; exit 1 ;;
esac
echo "Raspberry Pi OS ${VERSION_CODENAME}: Python $(python3 -V | cut -d' ' -f2), runtime ${RUNTIME}"

apt-get update
apt-get install -y --no-install-recommends python3-venv python3-picamera2 python3-opencv python3-gpiozero \
  python3-lgpio rsync

id scanner >/dev/null 2>&1 || useradd --system --create-home --groups video,gpio,render,input scanner
mkdir -p "$PREFIX" /etc/scanner /var/lib/scanner
rsync -a --delete --exclude .venv --exclude .git --exclude out --exclude build "$SRC/" "$PREFIX/"

python3 -m venv --system-site-packages "$PREFIX/.venv"
if [ "$RUNTIME" = tflite ]; then
  # numpy < 2 as apt's python3-opencv on Bookworm is built against numpy 1.
  "$PREFIX/.venv/bin/pip" install --quiet -c "$PREFIX/constraints.txt" -e "$PREFIX[tflite,ann,gpio]"
else
  "$PREFIX/.venv/bin/pip" install --quiet -e "$PREFIX[litert,ann]"
fi
"$PREFIX/.venv/bin/python" -c "import cv2, picamera2; print('OpenCV', cv2.__version__, 'and picamera2 from apt: ok')"

if [ ! -f /etc/scanner/scanner.toml ]; then
  sed "s|^runtime = .*|runtime = \"${RUNTIME}\"|" "$PREFIX/firmware_config/scanner.toml" > /etc/scanner/scanner.toml
fi
if [ ! -f /var/lib/scanner/brands.db ]; then
  "$PREFIX/.venv/bin/scanner" --config /etc/scanner/scanner.toml index build "$PREFIX/samples/brands" \
    --db /var/lib/scanner/brands.db
fi
chown -R scanner:scanner /var/lib/scanner
install -m 0644 "$PREFIX/firmware_config/scanner.service" /etc/systemd/system/scanner.service
systemctl daemon-reload
echo
echo "Installed. Add the lines of $PREFIX/firmware_config/config.txt to /boot/firmware/config.txt, reboot, then:"
echo "  sudo systemctl enable --now scanner     # live scanner on the display at boot"
echo "  journalctl -u scanner -f                # its log"
