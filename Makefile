# Vigil — the README's quick start is `make demo` and `make test`.
SWIFT ?= swift
VIGIL_DEBUG = .build/debug/vigil

.PHONY: deps build demo test bench release clean

deps:
	@./scripts/install-deps.sh

build: deps
	$(SWIFT) build

# Replays the bundled samples with the default rules and an embedded SQLite state in .vigil/demo.
demo: build
	@rm -rf .vigil/demo
	$(VIGIL_DEBUG) replay samples/ --state .vigil/demo/state.db --output jsonl:.vigil/demo/alerts.jsonl

# Plain `swift test` (not --parallel) so both XCTest's and Swift Testing's summary lines print.
test: deps
	$(SWIFT) test

bench: deps
	./Benchmarks/run.sh

release: deps
	$(SWIFT) build -c release --static-swift-stdlib --scratch-path .build-release
	@echo "binary: .build-release/release/vigil"

clean:
	rm -rf .build .build-release .vigil
