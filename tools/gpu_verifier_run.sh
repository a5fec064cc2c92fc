#!/usr/bin/env bash
# Continue the verifier on fresh pairs, on a borrowed GPU machine with many cores and minutes to spend:
# render new refined-aligned pair sets (seeds 2, 3, ...) until the rendering budget is spent, then fine-tune
# the checkpoint on them on the GPU. Export and calibration happen afterwards on the build machine
# (tools/train_verifier.py --export-only, tools/calibrate_verifier.py): the GPU machine has no LiteRT.
#
#   tools/gpu_verifier_run.sh REFS INIT.pt VALIDATION.txt OUT_DIR [TOTAL_MINUTES] [RENDER_MINUTES] [TRAIN_ARGS...]
#
# REFS: the training brands' logo.png folders (tools/import_simple_icons.py); INIT.pt and VALIDATION.txt: the
# checkpoint to continue and the brands it was validated on (its <checkpoint>.validation.txt), so the new
# model is validated on brands neither run trained on. OUT_DIR receives <INIT>_continued.pt (e.g.
# verifier_v5_continued.pt) with its curves, validation list and the log. Everything stops inside
# TOTAL_MINUTES (default 9.5). TRAIN_ARGS go to tools/train_verifier.py after the defaults here (e.g.
# --frozen-blocks -1). SIZE=224 in the environment renders the pairs at that side instead of 128 (the network
# is fully convolutional, so a 128 px INIT starts it); the checkpoint's name then ends in _224.
set -euo pipefail
refs=$1 init=$2 validation=$3 out=$4 total=${5:-9.5} render=${6:-5.3}
size=${SIZE:-128}
name=$(basename "$init" .pt)_continued$([ "$size" = 128 ] || echo "_$size")
shift $(( $# < 6 ? $# : 6 ))
cd "$(dirname "$0")/.."
. tools/gpu_common.sh  # start, left MINUTES, workers
sets=()
for seed in 2 3 4 5; do
    budget=$(left "$render")
    python3 -c "import sys; sys.exit(0 if $budget > 0.4 else 1)" || break
    python3 tools/make_verifier_set.py "$refs" --out "/tmp/verifier_set_r$seed.npz" --seed "$seed" \
        --workers "$workers" --align refined --size "$size" --minutes "$budget"
    sets+=("/tmp/verifier_set_r$seed.npz")
done
[ ${#sets[@]} -gt 0 ] || { echo "no pair set rendered: RENDER_MINUTES must leave over 0.4 min" >&2; exit 2; }
# What is left, less a minute for loading the sets and saving, with train_for's 10% for the evaluations.
train=$(python3 -c "print(round(max(0.5, ($(left "$total") - 1.2) / 1.12), 2))")
echo "rendered ${#sets[@]} sets in $(( $(date +%s) - start )) s; training $train min"
python3 tools/train_verifier.py --data "${sets[@]}" --init "$init" --validation-brands "$validation" \
    --loader-workers $((workers - 2)) --threads 2 --batch 64 --lr-scale 0.5 --shift 1 \
    --eval-every 1000 --minutes "$train" --no-export \
    --checkpoint "$out/$name.pt" --out "$out/unused.tflite" "$@"
echo "done in $(( $(date +%s) - start )) s"
