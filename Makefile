# Vigil — the README's quick start is `make demo` and `make test`.
SWIFT ?= swift
VIGIL_DEBUG = .build/debug/vigil
# The bundled samples: one day of an Azure ML subscription with an attack in it (samples/README.md).
SAMPLES = samples/export samples/eventhub samples/defender

.PHONY: deps build demo test bench bench-live chaos release clean completions validate-deploy

deps:
	@./scripts/install-deps.sh

build: deps
	$(SWIFT) build

# Replays the samples with the default rules (detections/) and an embedded SQLite state in
# .vigil/demo, lists the incidents and writes a self-contained HTML report.
demo: build
	@rm -rf .vigil/demo
	$(VIGIL_DEBUG) replay $(SAMPLES) --state .vigil/demo/state.db --output jsonl:.vigil/demo/alerts.jsonl
	$(VIGIL_DEBUG) incidents list --state .vigil/demo/state.db
	$(VIGIL_DEBUG) report --state .vigil/demo/state.db --out .vigil/demo/report.html
	@echo "alerts and incidents as JSON lines: .vigil/demo/alerts.jsonl; report: .vigil/demo/report.html"

# Plain `swift test` (not --parallel) so both XCTest's and Swift Testing's summary lines print.
test: deps
	$(SWIFT) test

bench: deps
	./Benchmarks/run.sh

# Live ingestion (docs/ingest.md, Measurements): Event Hubs consume throughput with one and two
# `vigil run` in one group (mock cluster in a process of its own), and append → incident latency
# while tailing at 10k events/s (default lateness, then lateness 0). Release build.
bench-live: deps
	$(SWIFT) build -c release --scratch-path .build-release --product vigil
	python3 Benchmarks/consume_bench.py --vigil .build-release/release/vigil
	python3 Benchmarks/tail_latency.py --vigil .build-release/release/vigil
	python3 Benchmarks/tail_latency.py --vigil .build-release/release/vigil --lateness 0

# The long reliability suites (docs/reliability.md): 20 kill -9 replays, faults, bad input, fuzzing.
chaos: build
	VIGIL_CHAOS=1 $(SWIFT) test --filter 'Chaos|BadInputCorpus'
	./scripts/chaos/crash.sh 20
	./Fuzz/run.sh all 600

release: deps
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path .build-release
	@echo "binary: .build-release/release/vigil"

completions: build
	./scripts/gen-completions.sh dist

validate-deploy:
	python3 deploy/validate.py

clean:
	rm -rf .build .build-release .vigil dist
