# InviteLink. `make run` starts the service on SQLite with dev keys; `make test` runs every
# test; `make bench` measures against references run in the same invocation.
SHELL := /bin/bash
BIN := .build/debug/invitelink
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps build check lint format run test bench bench-scale clean

# `$(call need,CHECK,PACKAGES)`: installs Debian PACKAGES with apt-get unless the shell
# command CHECK succeeds. The one place the Makefile installs anything from Debian.
APT_INSTALL = $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq
need = @$(1) >/dev/null 2>&1 || { echo "installing $(2)"; $(APT_INSTALL) $(2); }

# System packages the build and tests need, installed only when missing.
deps:
	$(call need,pkg-config --exists openssl,libssl-dev pkg-config)
	$(call need,pkg-config --exists sqlite3,libsqlite3-dev)
	$(call need,ls /usr/lib/postgresql/*/bin/initdb,postgresql)
	$(call need,command -v curl,curl)
	$(call need,command -v openssl,openssl)
	@python3 -c "import joserfc" 2>/dev/null || python3 -m pip install -q joserfc
	@python3 -c "import schemathesis" 2>/dev/null || python3 -m pip install -q schemathesis==4.32.5
	@python3 -c "import standardwebhooks" 2>/dev/null || python3 -m pip install -q standardwebhooks==1.1.0

build: deps
	swift build --build-tests

# The inner loop: one build, then the Swift suites on SQLite alone (no PostgreSQL, no scripts,
# no browser). A minute or two once the first build is done.
check: deps
	swift build --build-tests
	swift test --skip-build

# The team's formatting (.swift-format): `make format` rewrites, `make lint` (part of `make
# test`) fails on any difference. swift-format ships with the Swift toolchain.
SWIFT_SOURCES = Sources Tests
lint:
	swift format lint --strict --recursive $(SWIFT_SOURCES)

format:
	swift format format --in-place --recursive $(SWIFT_SOURCES)

# Starts the service on 127.0.0.1:8080 with SQLite under Data/ and a dev keyring in Keys/,
# after seeding a demo reseller, provider and customer and printing how to try them.
run: deps
	swift build --product invitelink
	INVITELINK=$(BIN) scripts/demo.sh
	exec $(BIN) serve

# One build; then, next to a throwaway PostgreSQL (stopped afterwards whatever happens), the
# Swift suites on both backends and the scripts that drive the real binary; then the crypto and
# token suites and a real server's issuance/acceptance round again on OpenSSL 3.5 (Debian 13's;
# scripts/openssl-3.5.sh says where it comes from); a minute of libFuzzer on token verification
# (a crash fails the run); then the browser.
test: lint build
	scripts/with-postgres.sh bash -c 'swift test --skip-build && INVITELINK=$(BIN) Tests/scripts/run_all.sh'
	scripts/openssl-3.5.sh bash -c 'swift test --skip-build --filter "InviteCryptoTests|InviteTokenTests|InvitePropertyTests" && INVITELINK=$(BIN) Tests/scripts/openssl_round.sh'
	$(MAKE) --no-print-directory fuzz FUZZ_SECONDS=60
	$(MAKE) --no-print-directory browser-run

# The signing core beside `openssl speed`, then the HTTP routes beside anchors measured in the
# same invocation (openssl speed Ed25519, the bare Hummingbird route `invitelink-bare`, and with
# `make bench DATABASE=postgres` pgbench -M prepared tpcb-like on the same throwaway cluster),
# the ratios, a met/missed line per target of issue 17 and every figure in build/bench.json
# (build/bench-postgres.json). Release binaries are built in their own scratch path,
# .build-release, so `make bench` never touches the debug build in .build.
BENCH_SCRATCH := .build-release
BENCH_BIN := $(BENCH_SCRATCH)/release
BENCH_SWIFT_BUILD := swift build -c release --scratch-path $(BENCH_SCRATCH)
BENCH_SECONDS ?= 8
bench: deps
	$(call need,command -v wrk,wrk)
	$(BENCH_SWIFT_BUILD) --product invitelink-bench
	$(BENCH_SWIFT_BUILD) --product invitelink
	$(BENCH_SWIFT_BUILD) --product invitelink-bare
	BENCH=$(BENCH_BIN)/invitelink-bench BENCH_JSON=build/bench-core.json scripts/bench.sh 1 5
ifeq ($(DATABASE),postgres)
	PG_EXTRA_OPTIONS="-c shared_preload_libraries=pg_stat_statements" scripts/with-postgres.sh scripts/bench_http.py --binary $(BENCH_BIN)/invitelink --bare $(BENCH_BIN)/invitelink-bare \
		--seconds $(BENCH_SECONDS) --database postgres --json build/bench-postgres.json --core-json build/bench-core.json
else
	scripts/bench_http.py --binary $(BENCH_BIN)/invitelink --bare $(BENCH_BIN)/invitelink-bare \
		--seconds $(BENCH_SECONDS) --json build/bench.json --core-json build/bench-core.json
	scripts/bench_signin_flood.py --binary $(BENCH_BIN)/invitelink
endif

# Issue 17's "flat at scale": issuance and acceptance on an empty database and on a generated one
# (1M invitations, 1M relationships, 100k customers, 10k partners; scripts/bench_scale.py), their
# ratio, and r1's first and deep list pages with their query plans, in build/bench-scale.json.
bench-scale: deps
	$(call need,command -v wrk,wrk)
	$(BENCH_SWIFT_BUILD) --product invitelink
	$(BENCH_SWIFT_BUILD) --product invitelink-bare
ifeq ($(DATABASE),postgres)
	scripts/with-postgres.sh scripts/bench_scale.py --binary $(BENCH_BIN)/invitelink --bare $(BENCH_BIN)/invitelink-bare \
		--database postgres --json build/bench-scale-postgres.json
else
	scripts/bench_scale.py --binary $(BENCH_BIN)/invitelink --bare $(BENCH_BIN)/invitelink-bare --json build/bench-scale.json
endif

clean:
	rm -rf .build

# ---- Web pages in a real browser (Tests/browser) -------------------------------------------
# Headless Debian Chromium driven by Selenium against a server the test starts on 127.0.0.1.
# Every page it visits is saved under build/screenshots/ (ignored); `make screenshots` also
# refreshes the few the README shows under docs/.
.PHONY: browser-deps browser-test browser-run screenshots

# Debian's chromium and chromium-driver, and selenium from PyPI, installed only when missing.
browser-deps:
	$(call need,{ command -v chromium && command -v chromedriver; },chromium chromium-driver)
	@python3 -c "import selenium" 2>/dev/null || python3 -m pip install -q selenium

browser-test: browser-deps
	swift build --product invitelink
	INVITELINK=$(BIN) timeout 200 python3 Tests/browser/test_portal.py
	INVITELINK=$(BIN) timeout 120 python3 Tests/browser/test_languages.py

# The same against the binary `make test` already built (building the product alone would
# recompile every module without -enable-testing).
browser-run: browser-deps
	INVITELINK=$(BIN) timeout 200 python3 Tests/browser/test_portal.py
	INVITELINK=$(BIN) timeout 120 python3 Tests/browser/test_languages.py

screenshots: browser-deps
	swift build --product invitelink
	INVITELINK=$(BIN) timeout 200 python3 Tests/browser/test_portal.py --docs
	INVITELINK=$(BIN) timeout 120 python3 Tests/browser/test_languages.py --docs
# ---- end of web pages in a real browser ----------------------------------------------------

# ---- Fuzzing token verification (Fuzz/, scripts/fuzz.sh) ----------------------------------
# libFuzzer with AddressSanitizer over TokenVerifier, tokens as given and claims signed with a
# fixed Ed25519 and a fixed HS256 key, for FUZZ_SECONDS; seeds from ../shared/vectors and
# Fuzz/corpus/, which keeps the new inputs that add coverage. Builds in .build-fuzz only, and
# needs only libssl-dev (not the rest of `deps`).
.PHONY: fuzz
FUZZ_SECONDS ?= 60

fuzz:
	$(call need,pkg-config --exists openssl,libssl-dev pkg-config)
	scripts/fuzz.sh $(FUZZ_SECONDS)
# ---- end of fuzzing ------------------------------------------------------------------------
