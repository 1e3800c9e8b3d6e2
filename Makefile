# The two commands a new user needs: `make run` and `make test`.
# Everything below installs what it needs into .venv on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
PYTEST_ARGS ?=

.PHONY: install chromium run offline-demo test lint typecheck unit bench demo-traffic fuzz clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

## chromium: Debian's chromium for the browser tests (Playwright drives it), installed when missing
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		sudo=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		echo "installing Debian's chromium for the browser tests"; \
		$$sudo apt-get install -y -q chromium >/dev/null || \
		{ $$sudo apt-get update -q >/dev/null && $$sudo apt-get install -y -q chromium >/dev/null; }; }
	@command -v chromium >/dev/null 2>&1 || { echo "chromium could not be installed"; exit 1; }

## run: the whole system on embedded defaults (SQLite file, embedded broker), demo traffic
run: $(STAMP)
	mkdir -p out
	$(BIN)/aedex run --demo

## offline-demo: validate, assess and evaluate generated files without the service
offline-demo: $(STAMP)
	rm -rf out/demo out/risk
	$(BIN)/aedex generate --items 200 --seed 1 --defects --out out/demo
	$(BIN)/aedex validate $$(find out/demo -type f \( -name '*.xml' -o -name '*.json' \
		-o -name '*.csv' \) -not -path '*/cn23/*' | sort); \
	status=$$?; echo; \
	echo "Demo traffic is in out/demo (labels.jsonl says which defect each item carries)."; \
	echo "aedex validate exited $$status: 1 means some item has an error finding, as injected."
	$(BIN)/aedex generate --items 2000 --seed 1 --scenarios --scenario-rate 0.1 --out out/risk
	$(BIN)/aedex assess $$(ls out/risk/itmatt/*.xml | sort | head -3) | grep -B1 -A3 -E 'INSPECT|HOLD|SCREEN|DO_NOT_LOAD' | head -40
	$(BIN)/aedex evaluate out/risk

## test: lint, type check, and the whole test suite
test: $(STAMP) chromium lint typecheck
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check messages risk adapters service tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

## bench: throughput benchmarks; prints figures and ratios measured side by side
bench: $(STAMP)
	$(BIN)/python -m benchmarks

## fuzz: atheris on every fuzz target in turn, FUZZ_SECONDS each; what crashes joins tests/fuzz/corpus
FUZZ_SECONDS ?= 30
FUZZ_TARGETS ?= $(shell $(BIN)/python -m tests.fuzz.run --list)

# --keep-going: one run finds every distinct crash, and corpus cases still awaiting a fix do not
# end it on start-up (a hang or memory blow-up still ends that target's run). --collect copies
# new crash-*/timeout-*/oom-* inputs into the corpus, where they fail `make test` until fixed,
# and makes `make fuzz` fail once every target has had its turn.
fuzz: $(STAMP)
	@status=0; for target in $(FUZZ_TARGETS); do \
		log=out/fuzz/$$target/fuzz.log; mkdir -p out/fuzz/$$target; \
		echo "== fuzz $$target for $(FUZZ_SECONDS) s (log: $$log)"; \
		$(BIN)/python -m tests.fuzz.run $$target --seconds $(FUZZ_SECONDS) --keep-going \
			> $$log 2>&1 || echo "   libFuzzer stopped on a hang, memory or crash: see $$log"; \
		grep -h -A1 '^==== crash' $$log || true; \
		$(BIN)/python -m tests.fuzz.run $$target --collect || status=1; \
	done; exit $$status

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis out
