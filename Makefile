# IPCC Lab. `make help` lists the targets.
GO        ?= go
FUZZTIME  ?= 10s
SEED      ?= 1
HOURS     ?= 8
REPORTS   ?= out/reports

.PHONY: help run test unit fuzz conformance bench lint sim

help: ## this list
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

run: ## the main job: emulator + controller on loopback, default scenario
	$(GO) run ./cmd/ipcclab up

# The conformance suite plays a real-time contact-centre timeline (a surge
# the controller must notice within seconds); on a 2-core machine it ran
# starved next to the SIPp and voice-path tests, so it runs on its own
# after them.
test: ## every test: vet, unit + conformance (race detector), the statistical simulation tests without it, a short fuzz of each codec target
	$(GO) vet ./...
	$(GO) test -race -timeout 15m $$($(GO) list ./... | grep -v '/conformance')
	$(GO) test -race -timeout 15m ./conformance/...
	$(GO) test -count=1 -run 'TestBlendedRunAgainstTheOptimalPolicy|TestOptimalPolicyDoesNotHoldEveryDay|TestThresholdDayReproducesTableD' ./internal/lab ./internal/erlang
	$(MAKE) fuzz FUZZTIME=5s

unit: ## unit tests only, no race detector (fast loop)
	$(GO) test ./...

# Every fuzz target, as package:Target. `go test -fuzz` takes one target
# of one package at a time.
FUZZ_TARGETS = ./protocol/cti:FuzzDecodeFrame ./emulator/ctiserver:FuzzServerSession ./internal/rtpio:FuzzReceive ./internal/sipnode:FuzzParseSDP ./controller/campaign:FuzzImportCSV ./controller/campaign:FuzzCampaignPatch ./controller/dialer:FuzzResumePacingState \
	./pcaps:FuzzStreamDecoder ./pcaps:FuzzDecode ./pcaps/ctifields:FuzzDecode ./pcaps/sipsum:FuzzDatagram ./pcaps/rtpstat:FuzzDatagram

# Go 1.26's fuzz coordinator can fail a run whose -fuzztime ends while a
# worker is still busy: "context deadline exceeded", no failing input
# written (golang/go#75804, fixed in Go 1.27). Such a run is started once
# more; a run that writes a failing input under testdata/fuzz, or fails any
# other way, fails the target.
fuzz: ## run each fuzz target for FUZZTIME
	@set -e; for pt in $(FUZZ_TARGETS); do \
	  pkg=$${pt%%:*}; t=$${pt##*:}; \
	  for try in 1 2; do \
	    echo "fuzz $$pkg $$t ($(FUZZTIME))"; \
	    before=$$(ls $$pkg/testdata/fuzz/$$t 2>/dev/null | wc -l); \
	    if $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg > .fuzz.out 2>&1; then cat .fuzz.out; break; fi; \
	    cat .fuzz.out; \
	    after=$$(ls $$pkg/testdata/fuzz/$$t 2>/dev/null | wc -l); \
	    if [ $$try = 1 ] && [ "$$before" = "$$after" ] && grep -q '^    context deadline exceeded$$' .fuzz.out; then \
	      echo "fuzz $$pkg $$t: Go's fuzztime race (golang/go#75804), no failing input written; once more"; continue; fi; \
	    rm -f .fuzz.out; exit 1; \
	  done; \
	done; rm -f .fuzz.out

conformance: ## the Ginkgo conformance suite with a JUnit report in $(REPORTS)
	@mkdir -p $(REPORTS)
	$(GO) tool ginkgo --race --randomize-all --fail-on-pending --fail-on-empty \
	  --junit-report=junit.xml --output-dir=$(REPORTS) --timeout=10m --no-color ./conformance $(if $(CTI_ADDR),-- --cti-addr=$(CTI_ADDR))

bench: ## benchmarks (go test -bench) and the simulated-day benchmark
	$(GO) test -run '^$$' -bench . -benchmem ./...
	$(GO) run ./cmd/ipcclab simulate --hours $(HOURS) --seed $(SEED) --json

sim: ## one simulated day, human-readable report
	$(GO) run ./cmd/ipcclab simulate --hours $(HOURS) --seed $(SEED)

lint: ## gofmt + go vet + the ring rules (cores never read the clock or open sockets)
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet ./...
	$(GO) test -run TestArchitecture ./internal/archtest
