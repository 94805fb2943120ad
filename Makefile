# modelmux: the commands of README.md, all through the CMake presets (CMakePresets.json).
#
#   make run ARGS="--port 9000"   build, then `modelmux serve` (127.0.0.1:8080 by default)
#   make test                     build, all ctest labels (unit, integration, e2e, slow), examples
#   make bench                    build, then the loopback benchmark (bench/run.sh)
#   make bench-chaos              build, then the fault-profile benchmark (bench/chaos.sh)
#   make bench-cache              build, then cache hits (memory/SQLite/Redis) vs a miss and nginx
#   make package                  build, then the .deb (CPack) in build/$(PRESET)/
#   make bench-batch              build, then 10,000 batch lines vs Python asyncio + aiohttp
#   make bench-media              build, then peak memory of one large-image request
#   make tokenizer-tables         regenerate data/tokenizers/ from npm js-tiktoken (node)
#   PRESET=debug make test        another preset (release, debug, asan-ubsan)

PRESET ?= release
BUILD_DIR := build/$(PRESET)
STAGE_DIR := build/stage
EXAMPLES_DIR := build/examples
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_JOBS ?= 2
ARGS ?=

.PHONY: all deps configure build run test examples bench bench-chaos bench-cache bench-batch bench-media format clean tokenizer-tables package

all: build

deps:
	bash scripts/install-deps.sh

configure: deps
	cmake --preset $(PRESET)

build: configure
	cmake --build --preset $(PRESET) -j$(JOBS)

run: build
	exec $(BUILD_DIR)/bin/modelmux serve $(ARGS)

# The examples are built against the installed package before the tests run, so that the output
# of `make test` ends with ctest's summary.
examples: build
	@if [ -f examples/CMakeLists.txt ]; then \
	  set -e; \
	  cmake --install $(BUILD_DIR) --prefix $(STAGE_DIR); \
	  cmake -S examples -B $(EXAMPLES_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release \
	    -DCMAKE_PREFIX_PATH=$(CURDIR)/$(STAGE_DIR); \
	  cmake --build $(EXAMPLES_DIR) -j$(JOBS); \
	else \
	  echo "examples: examples/CMakeLists.txt does not exist yet; skipped"; \
	fi

test: build examples
	ctest --preset $(PRESET) -j$(CTEST_JOBS) --output-on-failure

bench: build
	bash bench/run.sh

bench-chaos: build
	bash bench/chaos.sh

# The Debian package: $(BUILD_DIR)/modelmux_<version>_amd64.deb (cmake/Package.cmake).
package: build
	cd $(BUILD_DIR) && cpack -G DEB

bench-cache: build
	bash bench/cache.sh

bench-batch: build
	bash bench/batch.sh

bench-media: build
	bash bench/media_memory.sh

# Regenerates data/tokenizers/ (committed) from js-tiktoken, installed from tests/e2e's lock file.
tokenizer-tables:
	bash scripts/npm-ci.sh tests/e2e $(BUILD_DIR)/npm
	node scripts/tokenizer-tables.mjs $(BUILD_DIR)/npm/node_modules data/tokenizers

format:
	find src include tests examples bench \( -name '*.cpp' -o -name '*.hpp' \) -print0 2>/dev/null \
	  | xargs -0 -r clang-format -i

clean:
	rm -rf $(BUILD_DIR) $(STAGE_DIR) $(EXAMPLES_DIR)
