# Two commands for a fresh Debian 12 machine: `make demo` and `make test`.
# Each installs what it needs first. CMake does the real build.
JOBS ?= 2
BUILD ?= build
ASAN_BUILD ?= build-asan

.PHONY: all deps demo test bench build build-asan clean format

all: build

deps:
	./scripts/deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

build-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DLK_ASAN=ON \
	  -DLK_UBSAN=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j$(JOBS)

demo: build
	./scripts/demo.sh $(BUILD)

test: build-asan
	./scripts/js-deps.sh
	cd $(ASAN_BUILD) && ctest --output-on-failure -j$(JOBS)

bench: build
	./bench/run.sh $(BUILD)

format:
	clang-format -i emulator/*.[ch] include/lambkin/*.h runtimes/c/*.c \
	  handlers/c/*.c tests/*.c

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) .lambkin handlers/.lambkin
