# InviteLink. `make run` starts the service on SQLite with dev keys; `make test` runs every
# test; `make bench` measures against references run in the same invocation.
SHELL := /bin/bash
BIN := .build/debug/invitelink
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps build run test bench clean

# System packages the build and tests need, installed only when missing.
deps:
	@if ! pkg-config --exists openssl 2>/dev/null; then \
	  echo "installing libssl-dev and pkg-config"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libssl-dev pkg-config; \
	fi
	@pkg-config --exists sqlite3 2>/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libsqlite3-dev; }
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; }
	@command -v curl >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl; }
	@command -v openssl >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openssl; }
	@python3 -c "import joserfc" 2>/dev/null || python3 -m pip install -q joserfc
	@python3 -c "import schemathesis" 2>/dev/null || python3 -m pip install -q schemathesis==4.32.5

build: deps
	swift build --build-tests

# Starts the service on 127.0.0.1:8080 with SQLite under Data/ and a dev keyring in Keys/,
# after seeding a demo reseller, provider and customer and printing how to try them.
run: deps
	swift build --product invitelink
	INVITELINK=$(BIN) scripts/demo.sh
	exec $(BIN) serve

# One build; then, next to a throwaway PostgreSQL (stopped afterwards whatever happens), the
# Swift suites on both backends and the scripts that drive the real binary; then the crypto and
# token suites and a real server's issuance/acceptance round again on OpenSSL 3.5 (Debian 13's;
# scripts/openssl-3.5.sh says where it comes from); then the browser.
test: build
	scripts/with-postgres.sh bash -c 'swift test --skip-build && INVITELINK=$(BIN) Tests/scripts/run_all.sh'
	scripts/openssl-3.5.sh bash -c 'swift test --skip-build --filter "InviteCryptoTests|InviteTokenTests" && INVITELINK=$(BIN) Tests/scripts/openssl_round.sh'
	$(MAKE) --no-print-directory browser-run

# The signing core beside `openssl speed`, then the HTTP routes beside a bare route (wrk), on
# SQLite, or on a throwaway PostgreSQL with `make bench DATABASE=postgres`.
bench: deps
	@command -v wrk >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
	swift build -c release --product invitelink-bench
	scripts/bench.sh 1 5
	swift build -c release --product invitelink
ifeq ($(DATABASE),postgres)
	scripts/with-postgres.sh scripts/bench_http.py --binary .build/release/invitelink --database postgres
else
	scripts/bench_http.py --binary .build/release/invitelink
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
	@if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then \
	  echo "installing chromium and chromium-driver"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; \
	fi
	@python3 -c "import selenium" 2>/dev/null || python3 -m pip install -q selenium

browser-test: browser-deps
	swift build --product invitelink
	INVITELINK=$(BIN) timeout 200 python3 Tests/browser/test_portal.py

# The same against the binary `make test` already built (building the product alone would
# recompile every module without -enable-testing).
browser-run: browser-deps
	INVITELINK=$(BIN) timeout 200 python3 Tests/browser/test_portal.py

screenshots: browser-deps
	swift build --product invitelink
	INVITELINK=$(BIN) timeout 200 python3 Tests/browser/test_portal.py --docs
# ---- end of web pages in a real browser ----------------------------------------------------
