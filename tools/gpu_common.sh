# Sourced by the tools/gpu_*_run.sh scripts, from the repository root: the run's clock, the minutes `left`
# of a budget, the cores to render on, and what the borrowed machine has.
start=$(date +%s)
left() { python3 -c "print(max(0.0, ($1) - ($(date +%s) - $start) / 60))"; }
workers=$(nproc)
python3 - <<'PY'
import cv2, numpy, torch
print(f"cv2 {cv2.__version__}, numpy {numpy.__version__}, torch {torch.__version__}, cuda {torch.cuda.is_available()}",
      torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")
PY
