# Two commands for a fresh Debian 12 machine: `make demo` and `make test`.
# Each installs what it needs first. CMake does the real build.
JOBS ?= 2
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
SOAK_SECONDS ?= 180

.PHONY: all deps demo test bench soak build build-asan build-fuzz fuzz-self \
	clean format

all: build

deps:
	./scripts/deps.sh
	./scripts/node-sdk.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

build-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DLK_ASAN=ON \
	  -DLK_UBSAN=ON -DLK_STRICT_LOOP=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j$(JOBS)

# lambkin's own parsers under libFuzzer (clang, ASan+UBSan).
build-fuzz: deps
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang \
	  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLK_FUZZ=ON -DLK_ASAN=ON \
	  -DLK_UBSAN=ON -DLK_STRICT_LOOP=ON >/dev/null
	cmake --build $(FUZZ_BUILD) -j$(JOBS)

# Fuzzes each of lambkin's own parsers for FUZZ_SECONDS, from its seeds.
fuzz-self: build-fuzz
	for t in fuzz_filter fuzz_codec fuzz_app fuzz_http fuzz_mutator fuzz_sigv4 \
	    fuzz_oracle fuzz_params fuzz_state fuzz_ddb fuzz_pattern \
	    fuzz_ddb_ops fuzz_sns fuzz_events fuzz_kinesis fuzz_schedule \
	    fuzz_client fuzz_sinkrep; do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$t && \
	  $(FUZZ_BUILD)/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) \
	    $(FUZZ_BUILD)/corpus/$$t corpora/$$t || exit 1; \
	done

demo: build build-fuzz
	./scripts/demo.sh $(BUILD)

test: build-asan build-fuzz
	./scripts/js-deps.sh
	cd $(ASAN_BUILD) && ctest --output-on-failure -j$(JOBS)
	cd $(FUZZ_BUILD) && ctest --output-on-failure -j$(JOBS)

bench: build build-fuzz
	./bench/run.sh $(BUILD)

# A bounded mixed load with hostile clients (SOAK_SECONDS, default 180):
# RSS and open fds flat, nothing acknowledged lost. Not part of make test.
soak: build
	SOAK_SECONDS=$(SOAK_SECONDS) /usr/bin/python3 bench/soak.py $(BUILD)

format:
	find emulator fuzz include runtimes/c handlers/c tests \
	  -name node_modules -prune -o -name '*.[ch]' -exec clang-format -i {} +

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD) .lambkin handlers/.lambkin
