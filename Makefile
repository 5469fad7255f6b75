# The front door: wraps CMake. `make demo` and `make test` are the two commands
# of the README; the rest are for developers.
#
#   make            release build (gcc) in build/release
#   make demo       install missing packages, build, run the whole flow on loopback;
#                   make demo KEEP=1 leaves the room's daemon and the center
#                   running at the end, to open the pages it prints
#   make test       install missing packages; release (gcc) and ASan/UBSan (clang)
#                   builds; every test through ctest in both, the two side by side
#   make bench      release build, then the benchmarks (bench/run.sh)
#   make fuzz       libFuzzer harnesses (clang) in build/fuzz;
#                   make fuzz-run FUZZ_SECONDS=60 runs each one that long
#   make deb        the .deb package (CPack) in build/release/packages
#   make format     clang-format every C file in place
#   make clean      remove build/
#
# BUILD=DIR puts the build trees under DIR instead of build/.

MAKEFLAGS += --no-print-directory
BUILD ?= build
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

# Each build configures its tree every time (quick when nothing changed), so a
# configure that failed, say for a missing package, is simply run again next
# time rather than leaving a half-made tree behind. -Werror is the project's
# own choice, asked for here; a packager's plain cmake build only warns.
CONFIGURE = $(CMAKE) -S . -DEXAMROOM_WERROR=ON

release: deps
	$(CONFIGURE) -B $(BUILD)/release -DCMAKE_BUILD_TYPE=RelWithDebInfo $(RELEASE_TESTS)
	$(CMAKE) --build $(BUILD)/release -j $(JOBS)

asan: deps-test
	CC=clang $(CONFIGURE) -B $(BUILD)/asan -DCMAKE_BUILD_TYPE=Debug -DEXAMROOM_SANITIZE=ON \
	    -DEXAMROOM_TESTS=ON
	$(CMAKE) --build $(BUILD)/asan -j $(JOBS)

# make test wants the tests in the release tree too (cmocka is installed by
# then); make and make demo leave that to CMake's AUTO.
test: RELEASE_TESTS = -DEXAMROOM_TESTS=ON
# The two suites run side by side (tests/suites.sh), each its tests one at a
# time.
test: deps-test release asan
	SAN_ENV="$(SAN_ENV)" tests/suites.sh $(BUILD) $(CTEST)

demo: release
	KEEP=$(KEEP) tests/e2e/demo.sh $(BUILD)/release

bench: release
	bench/run.sh $(BUILD)/release

fuzz: deps-test
	CC=clang $(CONFIGURE) -B $(BUILD)/fuzz -DCMAKE_BUILD_TYPE=Debug -DEXAMROOM_FUZZ=ON \
	    -DEXAMROOM_TESTS=OFF
	$(CMAKE) --build $(BUILD)/fuzz -j $(JOBS)

# Each harness runs FUZZ_SECONDS on a scratch copy of its seed corpus; a
# finding stops the run and leaves its input in $(BUILD)/fuzz/findings/.
fuzz-run: fuzz
	@set -e; for h in $(BUILD)/fuzz/tests/fuzz/fuzz_*; do \
	    name=$${h##*/fuzz_}; \
	    mkdir -p $(BUILD)/fuzz/corpus/$$name $(BUILD)/fuzz/findings; \
	    cp -n tests/fuzz/corpus/$$name/* $(BUILD)/fuzz/corpus/$$name/ 2>/dev/null || true; \
	    echo "== fuzz $$name for $(FUZZ_SECONDS) s =="; \
	    $(SAN_ENV) $$h -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        -artifact_prefix=$(BUILD)/fuzz/findings/$$name- $(BUILD)/fuzz/corpus/$$name; \
	done

deb: release
	cd $(BUILD)/release && cpack

format:
	find common crypto store sync agent center tests bench -name '*.[ch]' 2>/dev/null \
	    | xargs clang-format -i

clean:
	rm -rf $(BUILD)
