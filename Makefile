# Two commands on a fresh machine:  `make demo` (set up, build the demo index, scan the sample photos)
# and `make test` (set up with the dev tools and both TFLite runtimes, run the whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt

.PHONY: demo test lint clean

# One environment for both: both TFLite runtimes (the tests run the model under each), OpenCV with a
# window (the live screen), gpiozero, the hub's server, the dev tools.
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e '.[litert,tflite,svg,gui,gpio,hub,eval,ann,dev]'
	touch $@

demo: $(VENV)/.installed
	rm -rf out && mkdir -p out
	$(BIN)/scanner index build samples/brands --db out/demo_index.db
	$(BIN)/scanner index info --db out/demo_index.db
	$(BIN)/scanner scan --db out/demo_index.db --store out/scans.db --screens out/screens --evidence out/evidence \
		samples/photos | tee out/verdicts.txt
	@echo "two items, each scanned from two angles (one verdict per item):"
	@for item in samples/views/*/; do \
		$(BIN)/scanner scan --db out/demo_index.db --store out/scans.db --screens out/screens --evidence out/evidence \
			--item $$item || exit 1; \
	done | tee out/items.txt
	@echo "genuine marks printed in white, black or reversed out of a field, and a counterfeit printed white:"
	$(BIN)/scanner scan --db out/demo_index.db --store out/scans.db --screens out/screens --evidence out/evidence \
		samples/colourways | tee out/colourways.txt
	@echo "verdict screens: out/screens/*.png; evidence of each verified scan: out/evidence/*.png"

test: $(VENV)/.installed
	$(BIN)/python -m pytest -q

lint: $(VENV)/.installed
	$(BIN)/ruff check scanner tests tools
	$(BIN)/mypy scanner

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
