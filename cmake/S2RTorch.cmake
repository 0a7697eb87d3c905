# Locate the *installed* torch (never a build-isolated copy) through torch.utils.cmake_prefix_path.
# s2r_query_torch(): version, CUDA version and prefix path; s2r_load_torch(): find_package(Torch).
function(s2r_query_torch)
  execute_process(
    COMMAND "${Python_EXECUTABLE}" -c "import torch, torch.utils; print(torch.utils.cmake_prefix_path); print(torch.__version__); print(torch.version.cuda or '')"
    OUTPUT_VARIABLE _out RESULT_VARIABLE _rc ERROR_VARIABLE _err OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT _rc EQUAL 0)
    message(FATAL_ERROR
      "s2rdepth: cannot import torch with ${Python_EXECUTABLE}:\n${_err}\n"
      "Install torch first, then build with `pip install --no-build-isolation .`")
  endif()
  string(REPLACE "\n" ";" _lines "${_out}")
  list(GET _lines 0 _prefix)
  list(GET _lines 1 _version)
  list(LENGTH _lines _n)
  set(_cuda "")
  if(_n GREATER 2)
    list(GET _lines 2 _cuda)
  endif()
  list(APPEND CMAKE_PREFIX_PATH "${_prefix}")
  set(S2R_TORCH_VERSION "${_version}" PARENT_SCOPE)
  set(S2R_TORCH_CUDA "${_cuda}" PARENT_SCOPE)
  set(CMAKE_PREFIX_PATH "${CMAKE_PREFIX_PATH}" PARENT_SCOPE)
  message(STATUS "s2rdepth: torch ${_version} (CUDA: '${_cuda}') from ${_prefix}")
endfunction()

# find_package(Torch) after the CUDA decision, so a CPU-only build never looks for CUDA.
macro(s2r_load_torch)
  if(NOT S2RDEPTH_WITH_CUDA)
    set(CAFFE2_USE_CUDA OFF)
    set(USE_CUDA OFF)
  endif()
  find_package(Torch REQUIRED CONFIG)
  separate_arguments(S2R_TORCH_CXX_FLAGS UNIX_COMMAND "${TORCH_CXX_FLAGS}")
endmacro()
