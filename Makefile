# moemap — the two commands a newcomer needs, and the builds behind them. Missing
# packages are installed by scripts/install-deps.sh as root; as another user (or off
# Debian) it only checks that the tools and libraries are found, and names what is not.
#   make demo   installs what is missing, builds, runs the whole pipeline on defaults
#   make test   installs what is missing, builds, runs every test: the normal build,
#               the same suite under ASan+UBSan, and short libFuzzer runs of each parser
#   make bench  builds, then prints bench/README.md: every benchmark's command and results
#   make install PREFIX=P   builds, then installs the CLI, libmoemap, headers, moemap.pc,
#               the CMake package, completion and man page under P (default /usr/local)
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
FUZZ_SECONDS ?= 10
PREFIX ?= /usr/local

.PHONY: all deps build build-cli install test test-unit test-sanitize test-fuzz demo bench clean

all: build

deps:
	@scripts/install-deps.sh build

build: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build -j $(JOBS)

# The demo needs only the CLI: building tests and benchmarks too would add a minute.
build-cli: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build -j $(JOBS) --target moemap_cli

install: build
	@cmake --install build --prefix "$(PREFIX)"

.PHONY: deps-test
test: deps-test test-unit test-sanitize test-fuzz

deps-test:
	@scripts/install-deps.sh test

test-unit: build
	cd build && ctest --output-on-failure -j $(JOBS)

test-sanitize: deps-test
	@CC=clang cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DMOEMAP_SANITIZE=ON -DMOEMAP_CUDA=OFF >/dev/null
	@cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS) -E '^cli_browser'

test-fuzz: deps-test
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMOEMAP_FUZZ=ON -DMOEMAP_CUDA=OFF >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	@scripts/fuzz-smoke.sh build-fuzz $(FUZZ_SECONDS)

demo: build-cli
	@scripts/demo.sh

# Benchmarks are built with the project and run by hand (minutes each, some on a GPU):
# this prints each one's command, what it measures and where its results are.
bench: build
	@cat bench/README.md

clean:
	rm -rf build build-asan build-fuzz
