# PerfLoad build. Every library comes from pkg-config; sources are picked up by
# directory so adding a file never needs an edit here.
#
#   make            build every binary into $(BUILD)/ and the dashboard into www/dist
#   make run        install what is missing, build, run appliance + redis + agent
#   make test       install what is missing, build, run unit, integration, e2e, fuzz-smoke
#                   (every fuzzer 10 s), soak-short (200 agents, 60 s, one worker killed)
#   make asan       unit + integration tests against an ASan/UBSan build in build-asan/
#   make fuzz       each libFuzzer target for FUZZ_SECONDS (default 60)
#   make fuzz-long  each libFuzzer target for FUZZ_LONG_SECONDS (default 1800)
#   make soak       1000 agents for 10 min, a worker killed every minute (docs/reliability.md)
#   make clean

BUILD     ?= build
comma     := ,
CC        ?= cc
SAN       ?=
OPT       ?= -O2
CFLAGS    ?=
CFLAGS    += -std=gnu11 $(OPT) -g -Wall -Wextra -Werror -Wno-unused-parameter \
             -Wshadow -Wpointer-arith -Wformat=2 -fno-strict-aliasing -Ilib -Iappliance $(SAN)
LDFLAGS   += $(SAN)

PC_LWS    := $(shell pkg-config --cflags --libs libwebsockets 2>/dev/null)
PC_CJSON  := $(shell pkg-config --libs libcjson 2>/dev/null)
CJSON_INC := $(shell pkg-config --cflags libcjson 2>/dev/null)
APPLIANCE_PKGS := libwebsockets libmicrohttpd hiredis libcjson libmongoc-1.0
APPLIANCE_CFLAGS := $(shell pkg-config --cflags $(APPLIANCE_PKGS) 2>/dev/null)
APPLIANCE_LIBS   := $(shell pkg-config --libs $(APPLIANCE_PKGS) 2>/dev/null) -lev -lpthread -lz -lm
FS_CFLAGS := $(shell pkg-config --cflags fuse3 hiredis libcjson 2>/dev/null)
FS_LIBS   := $(shell pkg-config --libs fuse3 hiredis libcjson 2>/dev/null) -lpthread -lm
CMOCKA    := $(shell pkg-config --cflags --libs cmocka 2>/dev/null)
# perfload-agent links libwebsockets and OpenSSL statically: as shared
# libraries their symbol tables and relocations alone cost ~0.9 MB of RSS and
# the agent must stay under 4 MB (docs/agent.md). AGENT_LINK=dynamic opts out.
AGENT_LINK ?= static
ifeq ($(AGENT_LINK),static)
AGENT_LIBS := -Wl,--as-needed -Wl,-Bstatic -lwebsockets -lssl -lcrypto -lz -lcap -Wl,-Bdynamic $(PC_CJSON) -ldl -lpthread
else
AGENT_LIBS := -Wl,--as-needed $(PC_LWS) $(PC_CJSON)
endif

LIB_SRC       := $(wildcard lib/*.c)
APPLIANCE_SRC := $(filter-out appliance/main.c,$(wildcard appliance/*.c))
AGENT_SRC     := $(wildcard agent/*.c)
FS_SRC        := $(wildcard fs/*.c)
BENCH_SRC     := $(wildcard bench/*.c)
CONF_SRC      := $(wildcard tests/conformance/*.c)
UNIT_SRC      := $(wildcard tests/unit/test_*.c)
FUZZ_SRC      := $(wildcard tests/fuzz/fuzz_*.c)

LIB_OBJ       := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
APPLIANCE_OBJ := $(APPLIANCE_SRC:%.c=$(BUILD)/obj/%.o)
UNIT_BIN      := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_BIN      := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)

BINARIES := $(BUILD)/perfload-appliance
ifneq ($(AGENT_SRC),)
BINARIES += $(BUILD)/perfload-agent
endif
ifneq ($(FS_SRC),)
BINARIES += $(BUILD)/perfload-fs
endif
ifneq ($(BENCH_SRC),)
BINARIES += $(BUILD)/perfload-bench
endif
ifneq ($(CONF_SRC),)
BINARIES += $(BUILD)/conformance-server
endif

.PHONY: all bins www run test unit integration e2e fuzz fuzz-smoke fuzz-long soak soak-short asan clean deps bench
all: bins www
bins: $(BINARIES) $(UNIT_BIN)

# -- objects ---------------------------------------------------------------
$(BUILD)/obj/lib/%.o: lib/%.c $(wildcard lib/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(CJSON_INC) -c $< -o $@
$(BUILD)/obj/appliance/%.o: appliance/%.c $(wildcard lib/*.h appliance/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(APPLIANCE_CFLAGS) -c $< -o $@
$(BUILD)/obj/agent/%.o: agent/%.c $(wildcard lib/*.h agent/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iagent $(APPLIANCE_CFLAGS) -c $< -o $@
$(BUILD)/obj/fs/%.o: fs/%.c $(wildcard lib/*.h fs/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Ifs $(FS_CFLAGS) -c $< -o $@
$(BUILD)/obj/bench/%.o: bench/%.c $(wildcard lib/*.h bench/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Ibench $(APPLIANCE_CFLAGS) -c $< -o $@
$(BUILD)/obj/tests/%.o: tests/%.c $(wildcard lib/*.h appliance/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Iagent -Ifs $(APPLIANCE_CFLAGS) $(FS_CFLAGS) -c $< -o $@

$(BUILD)/libperfload.a: $(LIB_OBJ)
	@rm -f $@; ar rcs $@ $^
$(BUILD)/libappliance.a: $(APPLIANCE_OBJ)
	@rm -f $@; ar rcs $@ $^

# -- binaries --------------------------------------------------------------
$(BUILD)/perfload-appliance: $(BUILD)/obj/appliance/main.o $(BUILD)/libappliance.a $(BUILD)/libperfload.a
	$(CC) $(LDFLAGS) -o $@ $^ $(APPLIANCE_LIBS)
$(BUILD)/perfload-agent: $(AGENT_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/libperfload.a
	$(CC) $(LDFLAGS) -o $@ $^ $(AGENT_LIBS)
$(BUILD)/perfload-fs: $(FS_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/libperfload.a
	$(CC) $(LDFLAGS) -o $@ $^ $(FS_LIBS)
$(BUILD)/perfload-bench: $(BENCH_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/libperfload.a
	$(CC) $(LDFLAGS) -o $@ $^ $(PC_LWS) $(PC_CJSON) -lm
$(BUILD)/conformance-server: $(CONF_SRC:%.c=$(BUILD)/obj/%.o) $(BUILD)/libappliance.a $(BUILD)/libperfload.a
	$(CC) $(LDFLAGS) -o $@ $^ $(APPLIANCE_LIBS)

# Unit tests link everything pure plus the appliance's non-main objects, so a
# test can exercise any file without a per-test rule. Agent/fs pure helpers
# live in lib/.
$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(BUILD)/libappliance.a $(BUILD)/libperfload.a
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(APPLIANCE_LIBS) $(CMOCKA) -lm

# -- dashboard -------------------------------------------------------------
www: www/dist/index.html
www/dist/index.html: $(shell find www/src www/index.html www/package.json www/vite.config.* -type f 2>/dev/null)
	@if [ -f www/package.json ]; then cd www && npm run build --silent; else echo "www/: no dashboard sources yet"; fi

# -- running ---------------------------------------------------------------
deps:
	@scripts/install-deps.sh
run: deps
	@$(MAKE) --no-print-directory all
	@scripts/run.sh

# -- tests -----------------------------------------------------------------
test: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory unit integration e2e fuzz-smoke soak-short

unit: $(UNIT_BIN)
	@scripts/run-unit.sh $(UNIT_BIN)

INTEGRATION ?= tests/integration/
integration: bins
	PERFLOAD_BUILD=$(abspath $(BUILD)) node --test --test-concurrency=1 $(INTEGRATION)

e2e: bins www
	@if ls tests/e2e/*.test.mjs >/dev/null 2>&1; then PERFLOAD_BUILD=$(abspath $(BUILD)) node --test --test-concurrency=1 tests/e2e/; fi

# -- benchmark: PerfLoad vs the Node.js reference, 1k and 5k agents (~2 min);
# bench/compare.sh without --quick runs the full ladder into docs/benchmarks.md
bench: bins
	PERFLOAD_BUILD=$(abspath $(BUILD)) bench/compare.sh --quick

# -- fuzzing (clang + libFuzzer, always with ASan/UBSan) -----------------------
FUZZ_CFLAGS := -std=gnu11 -g -O1 -Ilib $(CJSON_INC) -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
# lib/ is compiled once for all targets (instrumented, not linked with libFuzzer's main).
FUZZ_LIB_OBJ := $(LIB_SRC:lib/%.c=$(BUILD)/fuzz-obj/%.o)
.SECONDARY: $(FUZZ_LIB_OBJ)
$(BUILD)/fuzz-obj/%.o: lib/%.c $(wildcard lib/*.h)
	@mkdir -p $(dir $@)
	clang $(subst fuzzer$(comma),fuzzer-no-link$(comma),$(FUZZ_CFLAGS)) -c $< -o $@
$(BUILD)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB_OBJ)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_LIB_OBJ) $(PC_CJSON) -lm
FUZZ_SECONDS ?= 60
fuzz: $(FUZZ_BIN)
	@scripts/run-fuzz.sh $(FUZZ_SECONDS) $(FUZZ_BIN)
fuzz-smoke: $(FUZZ_BIN)
	@scripts/run-fuzz.sh 10 $(FUZZ_BIN)
FUZZ_LONG_SECONDS ?= 1800
fuzz-long: $(FUZZ_BIN)
	@scripts/run-fuzz.sh $(FUZZ_LONG_SECONDS) $(FUZZ_BIN)

# -- soak (tests/soak/soak.mjs): per-agent sequence numbers, kills, RSS --------
soak-short: bins
	PERFLOAD_BUILD=$(abspath $(BUILD)) node --test tests/soak/
soak: bins
	PERFLOAD_BUILD=$(abspath $(BUILD)) node tests/soak/soak.mjs --agents 1000 --duration 600 --kill-every 60 --json $(BUILD)/soak.json

# -- sanitizers ------------------------------------------------------------
# Every integration file that runs our C binaries; docker.test.mjs (replays
# the image build with its own compiler flags) and www-format.test.mjs (pure
# JavaScript) gain nothing from a sanitizer build.
ASAN_INTEGRATION := $(filter-out tests/integration/docker.test.mjs tests/integration/www-format.test.mjs,$(wildcard tests/integration/*.test.mjs))
asan:
	$(MAKE) -j2 BUILD=build-asan OPT=-O1 SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" bins
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  $(MAKE) --no-print-directory BUILD=build-asan OPT=-O1 SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  INTEGRATION="$(ASAN_INTEGRATION)" unit integration

clean:
	rm -rf build build-asan www/dist
