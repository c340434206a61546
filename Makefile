# ck-request: the two commands of the README, and the benchmarks of ck-request itself.
PYTHON ?= python3
CK ?= $(PYTHON) -m ck
RECORD ?= demo-efficientnet-lite0-onnxruntime

.PHONY: python-check install demo test test-fast lint ray-check browser bench

# The CK kernel imports `imp` (removed in Python 3.12): say so in one line, before pip says it in fifty.
python-check:
	@$(PYTHON) -c 'import sys; sys.exit(0 if (3, 9) <= sys.version_info[:2] < (3, 12) else 1)' || { \
	  echo "ck-request needs Python 3.9-3.11 (the ck kernel imports imp, removed in 3.12); $(PYTHON) is $$($(PYTHON) --version 2>&1): make a 3.11 venv first: python3.11 -m venv .venv && . .venv/bin/activate" >&2; \
	  exit 2; }

install: python-check
	@echo "== pip install -e '.[test]' into $$($(PYTHON) -c 'import sys; print(sys.prefix)')"
	@$(PYTHON) -m pip install --disable-pip-version-check --progress-bar=off -e '.[test]' \
	  | grep -E '^(Collecting|Downloading|Successfully|ERROR)' || true
	@$(PYTHON) -c 'import ckrequest, ck' || { echo "pip install failed (run it by hand to see why)" >&2; exit 2; }
	@if command -v pyenv >/dev/null 2>&1; then pyenv rehash; fi  # puts the new `ck` command on PATH
	$(PYTHON) -m ckrequest.cli setup

# README command 1: set up, then the bare benchmark command (EfficientNet-Lite0, real ImageNet weights,
# ONNX Runtime, the sample photos), recorded as a CK experiment; the scoreboard shows what was recorded.
demo: install
	@echo "== ck benchmark program:request-onnxruntime-classification --repetitions=3 --record --record_uoa=$(RECORD) --quiet"
	@echo "   (CK installs what it needs; its full output goes to .demo-benchmark.log)"
	@$(CK) benchmark program:request-onnxruntime-classification --repetitions=3 \
	    --record --record_uoa=$(RECORD) --quiet < /dev/null > .demo-benchmark.log \
	  || { tail -n 30 .demo-benchmark.log; exit 1; }
	@echo "== ck scoreboard request.asplos18   (each figure: the median of the recorded repetitions)"
	@$(CK) scoreboard request.asplos18 < /dev/null
	@echo "== ck scoreboard request.asplos18 --predictions=$(RECORD)"
	@$(CK) scoreboard request.asplos18 --predictions=$(RECORD) < /dev/null

# README command 2: the test suite (real CK kernel in temporary CK_REPOS/CK_TOOLS, real frameworks, Chromium).
test: install browser lint ray-check
	$(PYTHON) -m pytest -q

# Debian's Chromium for the dashboard's browser test (Playwright drives it and never downloads one): installed here
# as root (or with password-less sudo), else one line saying how; tests/conftest.py looks for it at this path.
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; elif sudo -n true 2>/dev/null; then SUDO="sudo"; else SUDO="no"; fi; \
	  if [ "$$SUDO" = no ] || ! command -v apt-get >/dev/null 2>&1; then \
	    echo "Chromium not found at $(CHROMIUM) (the dashboard's browser test drives it): install Debian's package as root: apt-get install -y chromium" >&2; \
	    exit 2; fi; \
	  echo "== apt-get install -y chromium   (the dashboard's browser test drives it)"; \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null || exit 2; \
	  [ -x "$(CHROMIUM)" ] || { echo "apt-get installed no $(CHROMIUM)" >&2; exit 2; }; fi

# Ray (pip, with install) starts a head and a worker on loopback here, runs a function and stops them (the farm tests need it).
ray-check:
	$(PYTHON) -m ckrequest.farm.local --check

# The unit lane: no ck command, no framework install, no browser, no large model build (under 2 minutes).
test-fast: lint
	$(PYTHON) -m pytest -q -m "not ck and not frameworks and not browser and not slow and not ray"

# ruff, and the rooms' import contracts (pyproject.toml: only ckrequest.ck reaches CK; nothing imports upward)
lint:
	$(PYTHON) -m ruff check .
	lint-imports

# Speed targets live here, as ratios measured side by side in one run, not in timed tests.
bench:
	$(PYTHON) -m ckrequest.tools.bench harness-overhead
	$(PYTHON) -m ckrequest.tools.bench scoreboard
