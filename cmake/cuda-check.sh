#!/usr/bin/env bash
# `make cuda-check`: compile-check the CUDA sources without a GPU and without a CMake build.
#  1. every csrc/ops/cuda/*_kernel.cu is compiled by nvcc (no torch include path: device code must
#     only need the CUDA toolkit) for sm_87 and sm_90, warnings as errors (device and host side);
#  2. when $PYTHON (default python3) can import torch, every csrc/ops/cuda/*_cuda.cpp (torch glue)
#     is syntax-checked by the host compiler ($CXX, default g++) against torch's headers and the
#     CUDA headers next to nvcc, with torch's _GLIBCXX_USE_CXX11_ABI.
# nvcc: $NVCC, else nvcc on PATH, else /usr/local/cuda/bin/nvcc. Without nvcc the check is skipped
# (exit 0) unless S2RDEPTH_REQUIRE_NVCC is set (exit 1). Compilations run in parallel (one per
# core); one line is printed per file, with the compiler's output below a failing one.
set -u -o pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
src="$root/csrc/ops/cuda"
python="${PYTHON:-python3}"
cxx="${CXX:-g++}"

# ----------------------------------------------------------------------------------- nvcc
nvcc="${NVCC:-}"
if [[ -z "$nvcc" ]]; then
  if command -v nvcc >/dev/null 2>&1; then
    nvcc="$(command -v nvcc)"
  elif [[ -x /usr/local/cuda/bin/nvcc ]]; then
    nvcc=/usr/local/cuda/bin/nvcc
  fi
fi
if [[ -z "$nvcc" || ! -x "$nvcc" ]]; then
  if [[ -n "${NVCC:-}" ]]; then
    echo "cuda-check: \$NVCC='$NVCC' is not an executable nvcc"
  else
    echo "cuda-check: no nvcc found (\$NVCC unset, none on PATH, no /usr/local/cuda/bin/nvcc)"
  fi
  if [[ -n "${S2RDEPTH_REQUIRE_NVCC:-}" ]]; then
    echo "cuda-check: FAILED (S2RDEPTH_REQUIRE_NVCC is set)"
    exit 1
  fi
  echo "cuda-check: skipped"
  exit 0
fi
echo "cuda-check: $("$nvcc" --version | grep -i release | sed 's/^.*release/nvcc release/') ($nvcc)"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/s2r-cuda-check.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

shopt -s nullglob
kernels=("$src"/*_kernel.cu)
glue=("$src"/*_cuda.cpp)
if [[ ${#kernels[@]} -eq 0 ]]; then
  echo "cuda-check: no csrc/ops/cuda/*_kernel.cu to check: FAILED"
  exit 1
fi

# Background jobs, at most $S2RDEPTH_CHECK_JOBS (default: the core count) at a time:
# job <id> <command...> runs the command with its output in $tmp/<id>.log and its exit status and
# duration in $tmp/<id>.rc; report <id> <label> waits for that file and prints the line.
max_jobs="${S2RDEPTH_CHECK_JOBS:-$(nproc 2>/dev/null || echo 2)}"
job() {
  local id="$1"
  shift
  while (( $(jobs -rp | wc -l) >= max_jobs )); do sleep 0.2; done
  ( start=$SECONDS
    "$@" >"$tmp/$id.log" 2>&1
    echo "$? $((SECONDS - start))" >"$tmp/$id.rc.part"
    mv "$tmp/$id.rc.part" "$tmp/$id.rc" ) &
}
status=0
report() {
  local id="$1" label="$2" rc secs
  while [[ ! -f "$tmp/$id.rc" ]]; do sleep 0.2; done
  read -r rc secs <"$tmp/$id.rc"
  if [[ "$rc" -eq 0 && ! -s "$tmp/$id.log" ]]; then
    echo "  ok    $label, ${secs}s"
  else
    if [[ "$rc" -eq 0 ]]; then echo "  FAIL  $label: diagnostics printed"; else echo "  FAIL  $label: exit $rc"; fi
    sed 's/^/        /' "$tmp/$id.log"
    status=1
  fi
}

# ---------------------------------------------------------------------- 1. device code
# Same optimisation flags as the CMake build; every warning is an error.
nvcc_flags=(-c -std=c++17 -O3 --use_fast_math -lineinfo
            -gencode arch=compute_87,code=sm_87 -gencode arch=compute_90,code=sm_90
            -Werror all-warnings -Xcompiler=-Wall,-Wextra,-Werror)
for i in "${!kernels[@]}"; do
  job "k$i" "$nvcc" "${nvcc_flags[@]}" -o "$tmp/k$i.o" "${kernels[$i]}"
done

# ------------------------------------------------------------------------- 2. torch glue
glue_note=""
glue_ready=0
if [[ ${#glue[@]} -eq 0 ]]; then
  glue_note="cuda-check: no csrc/ops/cuda/*_cuda.cpp glue to check"
elif ! torch_info="$("$python" - 2>/dev/null <<'PY'
import torch
from torch.utils import cpp_extension
print(int(bool(torch._C._GLIBCXX_USE_CXX11_ABI)))
print(torch.__version__)
for p in cpp_extension.include_paths():
    print(p)
PY
)"; then
  glue_note="cuda-check: '$python' cannot import torch: glue syntax check skipped (set PYTHON=...)"
else
  abi="$(sed -n 1p <<<"$torch_info")"
  torch_version="$(sed -n 2p <<<"$torch_info")"
  torch_inc=()
  glue_defs=()
  have_macros=0
  while IFS= read -r p; do
    [[ -z "$p" ]] && continue
    torch_inc+=(-isystem "$p")
    [[ -f "$p/c10/cuda/impl/cuda_cmake_macros.h" ]] && have_macros=1
  done < <(tail -n +3 <<<"$torch_info")
  # A CPU-only torch wheel ships the c10/cuda headers but not the generated
  # c10/cuda/impl/cuda_cmake_macros.h (it only holds Windows export macros): skip it.
  [[ $have_macros -eq 0 ]] && glue_defs+=(-DC10_CUDA_NO_CMAKE_CONFIGURE_FILE)

  # CUDA headers next to nvcc: <nvcc dir>/../include, $CUDA_HOME / $CUDA_PATH, else the include
  # directory nvcc itself passes (covers wrapper scripts such as /usr/local/bin/nvcc).
  cuda_inc=""
  nvcc_real="$(readlink -f "$nvcc" 2>/dev/null || echo "$nvcc")"
  for cand in "$(dirname "$nvcc_real")/../include" "${CUDA_HOME:-/nonexistent}/include" \
              "${CUDA_PATH:-/nonexistent}/include"; do
    if [[ -f "$cand/cuda_runtime_api.h" ]]; then cuda_inc="$(cd "$cand" && pwd)"; break; fi
  done
  if [[ -z "$cuda_inc" ]]; then
    cand="$("$nvcc" --dryrun -x cu -c /dev/null -o /dev/null 2>&1 |
            sed -n 's/^#\$ INCLUDES="-I\([^"]*\)".*$/\1/p' | head -n1 | sed 's/[[:space:]]*$//')"
    if [[ -n "$cand" && -f "$cand/cuda_runtime_api.h" ]]; then cuda_inc="$(cd "$cand" && pwd)"; fi
  fi
  if [[ -z "$cuda_inc" ]]; then
    glue_note="cuda-check: no CUDA include directory (cuda_runtime_api.h) found for $nvcc: glue check FAILED"
    status=1
  else
    glue_note="cuda-check: glue: torch $torch_version headers, CUDA headers $cuda_inc, _GLIBCXX_USE_CXX11_ABI=$abi${glue_defs[*]+ ${glue_defs[*]}}"
    glue_ready=1
    for i in "${!glue[@]}"; do
      job "g$i" "$cxx" -std=c++17 -fsyntax-only -Wall -Wextra -Werror -D_GLIBCXX_USE_CXX11_ABI="$abi" \
        ${glue_defs[@]+"${glue_defs[@]}"} "${torch_inc[@]}" -isystem "$cuda_inc" -I"$root/csrc" \
        "${glue[$i]}"
    done
  fi
fi

for i in "${!kernels[@]}"; do
  report "k$i" "${kernels[$i]#"$root"/} (nvcc -c, sm_87 + sm_90)"
done
echo "$glue_note"
if [[ $glue_ready -eq 1 ]]; then
  for i in "${!glue[@]}"; do
    report "g$i" "${glue[$i]#"$root"/} ($cxx -fsyntax-only)"
  done
fi

wait
if [[ $status -eq 0 ]]; then echo "cuda-check: passed"; else echo "cuda-check: FAILED"; fi
exit $status
