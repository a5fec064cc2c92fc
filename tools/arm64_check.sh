#!/usr/bin/env bash
# arm64 check: install the scanner in a Debian bookworm arm64 root (the Raspberry Pi OS Bookworm base:
# Python 3.11, aarch64 wheels of numpy 1.26, tflite-runtime 2.14 and OpenCV), run it under qemu-user
# emulation, and compare its verdicts and brands with this machine's on the bundled photos.
#
#   sudo tools/arm64_check.sh [ROOT_DIR]        # default build/arm64-root; about 5-10 minutes the first time
#
# Needs root, debootstrap and qemu-user-static (apt-get install debootstrap qemu-user-static) and the
# Debian and PyPI mirrors. Timings under emulation mean nothing; only the outputs are compared.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=${1:-build/arm64-root}
ROOT=$(realpath -m "$ROOT")
OUT=build/arm64-check
mkdir -p "$OUT"

register_binfmt() {
  if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc
  fi
  if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    # The F flag opens the interpreter now, so it also works inside the chroot.
    grep -v '^#' /usr/lib/binfmt.d/qemu-aarch64.conf | head -n 1 > /proc/sys/fs/binfmt_misc/register
  fi
}

bootstrap() {
  if [ -x "$ROOT/usr/bin/python3" ]; then return; fi
  debootstrap --arch=arm64 --variant=minbase --include=python3,python3-venv,ca-certificates \
    bookworm "$ROOT" http://deb.debian.org/debian
}

in_root() {
  # The host's CA bundle and proxy settings go in too: behind a TLS-inspecting proxy, pip needs them.
  chroot "$ROOT" /usr/bin/env -i HOME=/root PATH=/opt/venv/bin:/usr/bin:/bin LANG=C.UTF-8 \
    PIP_CERT=/etc/ssl/host-ca-bundle.crt ${https_proxy:+https_proxy=$https_proxy} \
    ${http_proxy:+http_proxy=$http_proxy} "$@"
}

mounts() {
  mountpoint -q "$ROOT/proc" || mount -t proc proc "$ROOT/proc"
  mountpoint -q "$ROOT/dev" || mount --bind /dev "$ROOT/dev"
  cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
  cp "${PIP_CERT:-${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}}" "$ROOT/etc/ssl/host-ca-bundle.crt"
}

cleanup() {
  umount "$ROOT/proc" 2>/dev/null || true
  umount "$ROOT/dev" 2>/dev/null || true
}
trap cleanup EXIT

start=$(date +%s)
register_binfmt
bootstrap
mounts
echo "arm64 root: $(in_root uname -m), $(in_root python3 --version)"

rm -rf "$ROOT/opt/scanner" && mkdir -p "$ROOT/opt/scanner"
git ls-files -z | xargs -0 -I{} cp --parents {} "$ROOT/opt/scanner/"
if [ ! -x "$ROOT/opt/venv/bin/python" ]; then in_root python3 -m venv /opt/venv; fi
in_root /opt/venv/bin/pip install --quiet --disable-pip-version-check -c /opt/scanner/constraints.txt \
  -e '/opt/scanner[tflite,headless]'
in_root /opt/venv/bin/python -c "import platform, numpy, cv2, tflite_runtime; print('arm64 packages:', platform.machine(), 'numpy', numpy.__version__, 'opencv', cv2.__version__, 'tflite-runtime', tflite_runtime.__version__)"

# The root gets the files git tracks: a model not yet added is missing there, so show why a scan failed.
if ! in_root sh -c "cd /opt/scanner && rm -f /tmp/arm64.db && scanner --runtime tflite index build samples/brands --db /tmp/arm64.db && scanner --runtime tflite scan --json --db /tmp/arm64.db samples/photos samples/colourways && for item in samples/views/*/; do scanner --runtime tflite scan --json --no-record --db /tmp/arm64.db --item \$item; done" > "$OUT/arm64.jsonl" 2> "$OUT/arm64.err"; then
  grep -v '^INFO' "$OUT/arm64.err" | tail -n 5
  echo "arm64 check: FAIL, the scanner did not run in the arm64 root (only files git tracks are copied there)"
  exit 1
fi
rm -f "$OUT/x86.db"
.venv/bin/scanner --runtime tflite index build samples/brands --db "$OUT/x86.db" 2>/dev/null
.venv/bin/scanner --runtime tflite scan --json --db "$OUT/x86.db" samples/photos samples/colourways 2>/dev/null > "$OUT/x86.jsonl"
for item in samples/views/*/; do  # the two-view items, one verdict each
  .venv/bin/scanner --runtime tflite scan --json --no-record --db "$OUT/x86.db" --item "$item" 2>/dev/null >> "$OUT/x86.jsonl"
done

.venv/bin/python - "$OUT/x86.jsonl" "$OUT/arm64.jsonl" <<'PY'
import json, sys
from pathlib import Path
def name(r):  # an item (samples/views/<item>/viewN.jpg) by its folder too
    image = Path(r["image"])
    return f"{image.parent.name}/{image.name}" if r.get("views") else image.name
x86, arm = ({name(r): r for r in map(json.loads, open(p))} for p in sys.argv[1:3])
print(f"{'image':<28} {'x86 verdict':<12} {'arm64 verdict':<14} {'x86 brand':<11} {'arm64 brand':<12} {'sim x86':>8} {'sim arm':>8}")
same = True
for name in sorted(x86):
    a, b = x86[name], arm.get(name, {})
    ok = (a.get("verdict"), a.get("brand")) == (b.get("verdict"), b.get("brand"))
    same &= ok
    fmt = lambda v: "-" if v is None else f"{v:.4f}"
    print(f"{name:<28} {a.get('verdict') or '-':<12} {b.get('verdict') or '-':<14} {a.get('brand') or '-':<11} "
          f"{b.get('brand') or '-':<12} {fmt(a.get('similarity')):>8} {fmt(b.get('similarity')):>8}{'' if ok else '  MISMATCH'}")
print("arm64 check:", "PASS, same verdicts and brands" if same and len(arm) == len(x86) else "FAIL")
sys.exit(0 if same and len(arm) == len(x86) else 1)
PY
echo "took $(( $(date +%s) - start )) s"
