# TradeWire: `make demo` and `make test` work on a fresh Debian machine (they install what is missing).
SHELL := /bin/bash
SWIFT ?= swift
FUZZ_SECONDS ?= 60
CLANG ?= clang
# Warnings for the C core. Given here, not in Package.swift: unsafeFlags there would keep the
# package from being used as a versioned dependency.
C_WARNINGS := -Xcc -Wall -Xcc -Wextra -Xcc -Wno-unused-parameter

.PHONY: deps build demo test test-sanitize test-tsan check-api docs fuzz fuzz-build bench bench-venues bench-book book-bench benchmarks soak perf clean

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build -c release --product tradewire $(C_WARNINGS)

demo: build
	.build/release/tradewire demo

test: deps
	$(SWIFT) build --build-tests $(C_WARNINGS)
	TRADEWIRE_PYTHON=$(CURDIR)/.venv/bin/python $(SWIFT) test --skip-build $(C_WARNINGS)
	$(MAKE) fuzz FUZZ_SECONDS=$(FUZZ_SECONDS)

# The Swift API as a user meets it: Examples/Consumer (its own package, Swift 6 language mode, TradeWire by
# path) builds clean and runs against the embedded simulator; each racy pattern in it fails to compile.
check-api: deps
	SWIFT=$(SWIFT) scripts/check-api.sh

# The DocC catalog (Sources/TradeWire/TradeWire.docc) and the API reference of every module, to .build/docs.
docs: deps
	$(SWIFT) package --allow-writing-to-directory .build/docs generate-documentation --target TradeWire \
	  --output-path .build/docs --disable-indexing --transform-for-static-hosting

# The suite under AddressSanitizer + LeakSanitizer (Swift and C) and UndefinedBehaviorSanitizer (the C core;
# swiftc has no UBSan on Linux). Allocation-count tests are disabled here: ASan owns the allocator.
SAN_FLAGS := --sanitize=address -Xcc -fsanitize=undefined -Xcc -fno-sanitize-recover=undefined \
             -Xswiftc -Xclang-linker -Xswiftc -fsanitize=undefined --scratch-path .build-sanitize

test-sanitize: deps
	$(SWIFT) build --build-tests $(SAN_FLAGS) $(C_WARNINGS)
	LSAN_OPTIONS=suppressions=$(CURDIR)/Tests/lsan.supp UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	TRADEWIRE_PYTHON=$(CURDIR)/.venv/bin/python $(SWIFT) test --skip-build $(SAN_FLAGS) $(C_WARNINGS)

# The suite under ThreadSanitizer (Swift and C), in its own scratch folder. Allocation-count tests are disabled
# here as under ASan (Tests/CMallocCounter does not interpose malloc: TSan owns the allocator, and an interposed
# malloc ran in instrumented code before TSan's runtime started, a segfault before main). Preloaded into the test
# processes (the test binary and the CLI it starts), Tests/TSan/*.c show TSan two kinds of synchronization it
# cannot see by itself, each file says why: a contended Synchronization.Mutex handed over in the uninstrumented
# Swift runtime, and io_uring rings unmapped by liburing's raw system calls. No suppressions: any report makes
# the process exit 66 and the run fail.
TSAN_FLAGS := --sanitize=thread --scratch-path .build-tsan
TSAN_PRELOAD := .build-tsan/libtradewire-tsan-preload.so

$(TSAN_PRELOAD): $(wildcard Tests/TSan/*.c)
	@mkdir -p $(dir $@)
	$(CLANG) -shared -fPIC -O2 -Wall -Wextra $^ -ldl -o $@

test-tsan: deps $(TSAN_PRELOAD)
	$(SWIFT) build --build-tests $(TSAN_FLAGS) $(C_WARNINGS)
	LD_PRELOAD=$(CURDIR)/$(TSAN_PRELOAD) TSAN_OPTIONS=halt_on_error=0:second_deadlock_stack=1 \
	TRADEWIRE_PYTHON=$(CURDIR)/.venv/bin/python $(SWIFT) test --skip-build $(TSAN_FLAGS) $(C_WARNINGS)

# Order round trips against the embedded venue with the raw C floors interleaved (ws and wss, wait and
# busy-poll), client on CPU 0 and venue on CPU 1; .hgrm files and SVG plots go to bench-out/.
BENCH_COUNT ?= 20000
bench: build
	@mkdir -p bench-out
	@for tls in "" "--tls"; do for mode in "" "--busy-poll"; do \
	  name=$$( [ -n "$$tls" ] && echo wss || echo ws )-$$( [ -n "$$mode" ] && echo busy-poll || echo wait ); \
	  .build/release/tradewire bench --floor --count $(BENCH_COUNT) --cpu 0 --server-cpu 1 $$tls $$mode \
	    --hgrm bench-out/$$name --svg bench-out/$$name.svg || exit 1; \
	done; done

# Every venue's order round trip (busy-poll, ws) against its raw floors sending the same requests, in five
# alternating rounds; medians as a table, a percentile plot per venue in bench-out/ (docs/benchmarks.md).
bench-venues: build
	python3 scripts/bench-venues.py --rounds 5 --count $(BENCH_COUNT) --out bench-out --busy-poll --cpu 0 --server-cpu 1

# Kraken add_order round trips while the same client keeps a Kraken book the venue moves at 20k, 100k and 300k
# updates/s on the same connection; the floors measured idle in the same run (docs/benchmarks.md); SVG plots of
# latency against percentile in bench-out/.
bench-book: build
	@mkdir -p bench-out
	@for rate in 20000 100000 300000; do \
	  .build/release/tradewire bench --floor --busy-poll --count $(BENCH_COUNT) --cpu 0 --server-cpu 1 --book-rate $$rate --json \
	    --svg bench-out/book-load-$$rate.svg || exit 1; \
	done

# Kraken book updates decoded + applied + checksum-verified per second, beside the frame walk (the floor) and
# simdjson's On-Demand parse of the same messages (Debian's libsimdjson-dev, built here), one core.
book-bench: build
	@dpkg -s libsimdjson-dev >/dev/null 2>&1 || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libsimdjson-dev >/dev/null)
	@mkdir -p .build/simdjson
	g++ -O3 -std=c++17 Benchmarks/simdjson/kraken_book_parse.cpp -lsimdjson -o .build/simdjson/kraken_book_parse
	.build/release/tradewire book-bench --seconds 3

# The ordo-one/benchmark suite (its own package in Benchmarks/; OrderRoundTrip starts the CLI's simulator).
benchmarks: build
	cd Benchmarks && $(SWIFT) package benchmark

# 60 s of round trips with a 10,000 quotes/s stream on the same loop: percentiles and RSS per 10 s.
soak: build
	.build/release/tradewire soak --seconds 60 --busy-poll

# A CPU profile of a busy-poll bench run, demangled (docs/profiling.md). PERF_CALLGRAPH=dwarf when
# frame-pointer stacks break in Debian's libc, liburing or libcrypto.
PERF_CALLGRAPH ?= fp
PERF_ARGS ?= --busy-poll --count 100000 --cpu 0 --server-cpu 1
perf: build
	@command -v perf >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq linux-perf >/dev/null
	perf record -e cpu-clock -F 10000 --call-graph $(PERF_CALLGRAPH) -o perf.data -- .build/release/tradewire bench $(PERF_ARGS)
	perf report -i perf.data --no-children --sort dso,sym --stdio -g none --percent-limit 0.3 2>/dev/null \
	  | swift demangle --simplified > perf-report.txt
	perf report -i perf.data --children --sort sym --stdio -g caller,0.5,callee --percent-limit 2 2>/dev/null \
	  | swift demangle --simplified > perf-callers.txt
	@head -60 perf-report.txt
	@echo "flat profile: perf-report.txt; call graph: perf-callers.txt"

# libFuzzer targets (frame parser, upgrade parser); FUZZ_SECONDS each.
FUZZ_SRC := CSources/CTradeWire/tw_frame.c CSources/CTradeWire/tw_ws.c CSources/CTradeWire/tw_utf8.c \
            CSources/CTradeWire/tw_http.c CSources/CTradeWire/tw_error.c
FUZZ_FLAGS := -g -O1 -fuse-ld=lld -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
              -ICSources/CTradeWire/include
FUZZ_TARGETS := fuzz_frame fuzz_upgrade fuzz_json
JSON_SRC := Sources/TradeWire/JSON/JSONReader.swift Sources/TradeWire/JSON/JSONValue.swift Sources/TradeWire/JSON/JSONKeySet.swift Sources/TradeWire/JSON/BytePrimitives.swift Sources/TradeWire/Orders/FixedDecimal.swift

fuzz-build: $(addprefix .build/fuzz/,$(FUZZ_TARGETS))

.build/fuzz/%: Fuzz/%.c $(FUZZ_SRC)
	@mkdir -p .build/fuzz
	$(CLANG) $(FUZZ_FLAGS) $< $(FUZZ_SRC) -lcrypto -o $@

# The JSON reader is Swift: built with swiftc's libFuzzer support, the C UTF-8 validator linked in.
.build/fuzz/fuzz_json: Fuzz/fuzz_json.swift $(JSON_SRC) CSources/CTradeWire/tw_utf8.c
	@mkdir -p .build/fuzz
	$(CLANG) -g -O1 -fsanitize=fuzzer-no-link,address -ICSources/CTradeWire/include -c CSources/CTradeWire/tw_utf8.c -o .build/fuzz/tw_utf8.o
	swiftc -g -O -sanitize=fuzzer,address -use-ld=lld -parse-as-library -module-name FuzzJSON -I Fuzz/modules/CTradeWire \
	    Fuzz/fuzz_json.swift $(JSON_SRC) .build/fuzz/tw_utf8.o -o $@

# The venue decoders: SwiftPM builds the target with libFuzzer and ASan in its own scratch folder.
.build/fuzz/fuzz_venues: $(wildcard Fuzz/FuzzVenues/*.swift Sources/TradeWire*/*.swift Sources/TradeWire/*/*.swift)
	@mkdir -p .build/fuzz
	$(SWIFT) build --product fuzz-venues --scratch-path .build-fuzz -Xswiftc -sanitize=fuzzer,address \
	    -Xswiftc -parse-as-library -Xswiftc -DFUZZING -Xlinker --export-dynamic
	cp .build-fuzz/debug/fuzz-venues $@

fuzz: deps fuzz-build .build/fuzz/fuzz_venues
	@for t in $(FUZZ_TARGETS) fuzz_venues; do \
	  mkdir -p .build/fuzz/corpus-$$t; \
	  echo "fuzz $$t for $(FUZZ_SECONDS)s"; \
	  .build/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	     .build/fuzz/corpus-$$t Fuzz/corpus/$$t 2>&1 | grep -E "stat::number_of_executed_units|ERROR|SUMMARY|crash" ; \
	  test $${PIPESTATUS[0]} -eq 0 || exit 1; \
	done

clean:
	rm -rf .build .venv
