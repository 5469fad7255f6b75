# The front door: wraps CMake. `make demo` and `make test` are the two commands
# of the README; the rest are for developers.
#
#   make            release build (gcc) in build/release
#   make demo       install missing packages, build, run the whole flow on loopback
#   make test       install missing packages; release (gcc) and ASan/UBSan (clang)
#                   builds; every test through ctest in both
#   make bench      release build, then the benchmarks (bench/run.sh)
#   make fuzz       libFuzzer harnesses (clang) in build/fuzz;
#                   make fuzz-run FUZZ_SECONDS=60 runs each one that long
#   make deb        the .deb package (CPack) in build/release/packages
#   make format     clang-format every C file in place
#   make clean      remove build/

MAKEFLAGS += --no-print-directory
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60
CMAKE ?= cmake
CTEST ?= ctest
SAN_ENV = ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1 \
          UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

.PHONY: all release asan fuzz fuzz-run demo test bench deb format clean deps deps-test

all: release

deps:
	@packaging/deps.sh build

deps-test:
	@packaging/deps.sh test

build/release/CMakeCache.txt:
	$(CMAKE) -S . -B build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo

build/asan/CMakeCache.txt:
	CC=clang $(CMAKE) -S . -B build/asan -DCMAKE_BUILD_TYPE=Debug -DEXAMROOM_SANITIZE=ON

build/fuzz/CMakeCache.txt:
	CC=clang $(CMAKE) -S . -B build/fuzz -DCMAKE_BUILD_TYPE=Debug -DEXAMROOM_FUZZ=ON \
	    -DEXAMROOM_TESTS=OFF

release: deps build/release/CMakeCache.txt
	$(CMAKE) --build build/release -j $(JOBS)

asan: deps-test build/asan/CMakeCache.txt
	$(CMAKE) --build build/asan -j $(JOBS)

test: deps-test release asan
	@echo "== tests: release build (gcc) =="
	cd build/release && $(CTEST) --verbose --output-on-failure
	@echo "== tests: ASan/UBSan build (clang) =="
	cd build/asan && $(SAN_ENV) $(CTEST) --verbose --output-on-failure

demo: release
	tests/e2e/demo.sh build/release

bench: release
	bench/run.sh build/release

fuzz: deps-test build/fuzz/CMakeCache.txt
	$(CMAKE) --build build/fuzz -j $(JOBS)

# Each harness runs FUZZ_SECONDS on a scratch copy of its seed corpus; a
# finding stops the run and leaves its input in build/fuzz/findings/.
fuzz-run: fuzz
	@set -e; for h in build/fuzz/tests/fuzz/fuzz_*; do \
	    name=$${h##*/fuzz_}; \
	    mkdir -p build/fuzz/corpus/$$name build/fuzz/findings; \
	    cp -n tests/fuzz/corpus/$$name/* build/fuzz/corpus/$$name/ 2>/dev/null || true; \
	    echo "== fuzz $$name for $(FUZZ_SECONDS) s =="; \
	    $(SAN_ENV) $$h -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        -artifact_prefix=build/fuzz/findings/$$name- build/fuzz/corpus/$$name; \
	done

deb: release
	cd build/release && cpack

format:
	find common crypto store sync agent center tests bench -name '*.[ch]' 2>/dev/null \
	    | xargs clang-format -i

clean:
	rm -rf build
