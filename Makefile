# ck-request: the two commands of the README, and the benchmark of the harness itself.
PYTHON ?= python3
CK ?= $(PYTHON) -m ck
RECORD ?= demo-efficientnet-lite0-onnxruntime

.PHONY: install demo test lint bench

install:
	$(PYTHON) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi  # puts the new `ck` command on PATH
	$(PYTHON) -m ckrequest.cli setup

# README command 1: set up, benchmark EfficientNet-Lite0 (real ImageNet weights) on the sample photos
# with ONNX Runtime, record it as a CK experiment, show the scoreboard.
demo: install
	@echo "== ck benchmark (full CK log in .demo-benchmark.log)"
	@$(CK) benchmark program:request-onnxruntime-classification --cmd_key=performance \
	    --dep_add_tags.model=efficientnet-lite0,imagenet --repetitions=3 \
	    --record --record_uoa=$(RECORD) --quiet --skip_print_stats < /dev/null > .demo-benchmark.log 2>&1 \
	  || { tail -n 30 .demo-benchmark.log; exit 1; }
	@grep -E '^(model|framework|data set|latency|throughput|accuracy) ' .demo-benchmark.log | tail -n 6
	@echo "== ck scoreboard request.asplos18"
	@$(CK) scoreboard request.asplos18 < /dev/null

# README command 2: the test suite (real CK kernel in temporary CK_REPOS/CK_TOOLS, real ONNX Runtime).
test: install
	$(PYTHON) -m ruff check .
	$(PYTHON) -m pytest -q

lint:
	$(PYTHON) -m ruff check .

# Speed targets live here, as ratios measured side by side in one run, not in timed tests.
bench:
	$(PYTHON) -m ckrequest.bench harness-overhead
	$(PYTHON) -m ckrequest.bench scoreboard
