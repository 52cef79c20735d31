# TradeWire: `make demo` and `make test` work on a fresh Debian machine (they install what is missing).
SHELL := /bin/bash
SWIFT ?= swift
FUZZ_SECONDS ?= 60
CLANG ?= clang

.PHONY: deps build demo test test-sanitize fuzz fuzz-build bench clean

deps:
	@scripts/install-deps.sh

build: deps
	$(SWIFT) build -c release --product tradewire

demo: build
	.build/release/tradewire demo

test: deps
	$(SWIFT) build --build-tests
	TRADEWIRE_PYTHON=$(CURDIR)/.venv/bin/python $(SWIFT) test --skip-build
	$(MAKE) fuzz FUZZ_SECONDS=$(FUZZ_SECONDS)

# The suite under AddressSanitizer + LeakSanitizer (Swift and C) and UndefinedBehaviorSanitizer (the C core;
# swiftc has no UBSan on Linux). Allocation-count tests are disabled here: ASan owns the allocator.
SAN_FLAGS := --sanitize=address -Xcc -fsanitize=undefined -Xcc -fno-sanitize-recover=undefined \
             -Xswiftc -Xclang-linker -Xswiftc -fsanitize=undefined --scratch-path .build-sanitize

test-sanitize: deps
	$(SWIFT) build --build-tests $(SAN_FLAGS)
	LSAN_OPTIONS=suppressions=$(CURDIR)/Tests/lsan.supp UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	TRADEWIRE_PYTHON=$(CURDIR)/.venv/bin/python $(SWIFT) test --skip-build $(SAN_FLAGS)

bench: build
	.build/release/tradewire bench --floor
	.build/release/tradewire bench --floor --busy-poll

# libFuzzer targets (frame parser, upgrade parser); FUZZ_SECONDS each.
FUZZ_SRC := CSources/CTradeWire/tw_frame.c CSources/CTradeWire/tw_ws.c CSources/CTradeWire/tw_utf8.c \
            CSources/CTradeWire/tw_http.c CSources/CTradeWire/tw_error.c
FUZZ_FLAGS := -g -O1 -fuse-ld=lld -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
              -ICSources/CTradeWire/include
FUZZ_TARGETS := fuzz_frame fuzz_upgrade fuzz_json
JSON_SRC := Sources/TradeWire/JSON/JSONReader.swift Sources/TradeWire/JSON/JSONValue.swift Sources/TradeWire/Orders/FixedDecimal.swift

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
