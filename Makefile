# toncon's build and test entry points. `make test` is what CI runs (.ci/run): it installs what the tests need
# and runs every test, so a green run on a fresh machine means the same as a green run here.

GO        ?= go
BIN       := bin/toncon
# Each fuzz target runs for a number of executions, not a wall-clock time: Go 1.26's fuzzing coordinator can
# fail a clean run with "context deadline exceeded" when a duration runs out mid-execution (go.dev/issue/75804).
# The counts are about 5 to 8 seconds each on a 2-vCPU machine. `make test-fuzz FUZZTIME=2m` overrides them all.
FUZZTIME  ?=
FUZZ_TARGETS := \
	FuzzKeyframeStart:internal/media:60000 \
	FuzzPublishOffer:internal/media:20000 \
	FuzzDecodeFrame:internal/phx:100000 \
	FuzzVerifyPerms:internal/auth:20000 \
	FuzzVerifyAccountToken:internal/auth:25000 \
	FuzzNormalizeEmail:internal/store:200000 \
	FuzzParseCapacity:internal/cost:150000 \
	FuzzInspect:internal/gltf:300000 \
	FuzzSniff:internal/uploads:50000 \
	FuzzAppendJSONString:internal/loadtest:15000 \
	FuzzParseLT:internal/loadtest:10000

.PHONY: all build web test test-go test-fuzz test-interop test-web test-web-build test-e2e deps-chromium bench deps-web check-tools clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/toncon

# Rebuild the web apps into web/dist, which is committed and embedded in the binary.
web: deps-web
	cd web && npx vite build

# Every test: Go (with the race detector), a short fuzz run of each decoder of outside input, and the interop
# tests with the official phoenix JavaScript client against a real toncon.
test: check-tools test-web-build test-go test-fuzz test-web test-interop test-e2e

# The committed web/dist must be what the sources build to: rebuild into a scratch folder and compare.
test-web-build: deps-web
	rm -rf $(CURDIR)/.cache/web-dist
	cd web && npx vite build --logLevel warn --outDir $(CURDIR)/.cache/web-dist --emptyOutDir
	diff -r web/dist $(CURDIR)/.cache/web-dist || { echo "web/dist is stale: run 'make web' and commit web/dist"; exit 1; }

# Browser tests drive Debian's chromium with playwright-core; they never download a browser of their own.
CHROMIUM ?= /usr/bin/chromium
deps-chromium:
	@test -x $(CHROMIUM) || { echo "installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@test -x $(CHROMIUM) || { echo "the browser tests need chromium at $(CHROMIUM) (apt-get install chromium)"; exit 1; }

# End-to-end tests: real browsers against a toncon the tests start.
test-e2e: build deps-web deps-chromium
	cd web && TONCON_BIN=$(CURDIR)/$(BIN) CHROMIUM=$(CHROMIUM) npm run --silent test:e2e

# Unit tests of the web client (node's test runner).
test-web: deps-web
	cd web && npm run --silent test:unit

test-go:
	$(GO) vet ./...
	$(GO) test -race -count=1 ./...

test-fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		name=$${t%%:*}; rest=$${t#*:}; pkg=$${rest%%:*}; budget=$(or $(FUZZTIME),$${rest#*:}x); \
		echo "go test -fuzz $$name -fuzztime $$budget ./$$pkg"; \
		$(GO) test -run '^$$' -fuzz "^$$name\$$" -fuzztime $$budget ./$$pkg; \
	done

test-interop: build deps-web
	cd web && TONCON_BIN=$(CURDIR)/$(BIN) npm run --silent test:interop

# node_modules is installed from the lock file whenever the lock file is newer than the last install.
deps-web: web/node_modules/.installed

web/node_modules/.installed: web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	touch $@

check-tools:
	@command -v $(GO) >/dev/null || { echo "make test needs Go (https://go.dev/dl)"; exit 1; }
	@command -v node >/dev/null && command -v npm >/dev/null || { echo "make test needs Node.js 20+ and npm (apt-get install nodejs npm)"; exit 1; }

# Benchmarks of the hot paths, with allocation counts.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./internal/phx ./internal/hub ./internal/media ./internal/uploads

clean:
	rm -rf bin web/node_modules
