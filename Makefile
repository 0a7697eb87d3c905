# s2rdepth developer entry points. `make demo` and `make test` work on a fresh clone: they create
# .venv, install torch 2.13.0 and the build tools, build the package (with its compiled operators),
# then run the demo (`s2rdepth demo`; QUICK=1 for `--quick`, DEMO_OUT=DIR, DEMO_ARGS=...) or the tests.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TORCH_VERSION ?= 2.13.0
PYTEST_ARGS ?= -q
DEMO_OUT ?= demo_out
DEMO_ARGS ?=
export CMAKE_BUILD_PARALLEL_LEVEL ?= $(shell nproc 2>/dev/null || echo 2)

CSRC := $(shell find csrc cmake -type f 2>/dev/null) CMakeLists.txt pyproject.toml

.PHONY: setup install demo test cuda-check bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(VENV)/.deps: $(PY) Makefile
	$(PY) -m pip install -q "torch==$(TORCH_VERSION)"
	$(PY) -m pip install -q "scikit-build-core>=0.10" "ninja" "numpy>=1.24" "safetensors>=0.4" \
	    "Pillow>=9.0" "PyYAML>=6.0" "h5py>=3.8" "pytest>=7" "tqdm>=4.60" "tensorboard>=2.10" \
	    "onnx>=1.14" "onnxruntime>=1.16" "onnxscript>=0.2"
	touch $@

# Rebuild the extension whenever a C++/CUDA/CMake source changes (Python edits need no rebuild:
# the install is editable).
$(VENV)/.installed: $(VENV)/.deps $(CSRC)
	$(PY) -m pip install -q --no-build-isolation --no-deps -e .
	touch $@

setup install: $(VENV)/.installed

demo: $(VENV)/.installed
	$(PY) -m s2rdepth demo --out $(DEMO_OUT) $(if $(filter-out 0,$(QUICK)),--quick) $(DEMO_ARGS)

test: $(VENV)/.installed
	@if command -v nvcc >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/nvcc ]; then \
	    $(MAKE) --no-print-directory cuda-check; \
	else echo "cuda-check: skipped (no nvcc on this machine)"; fi
	S2RDEPTH_REQUIRE_COMPILED=1 $(PY) -m pytest $(PYTEST_ARGS)

cuda-check: $(VENV)/.deps
	PYTHON=$(PY) bash cmake/cuda-check.sh

bench: $(VENV)/.installed
	$(PY) -m benchmarks

clean:
	rm -rf build $(VENV) .pytest_cache $(DEMO_OUT)
