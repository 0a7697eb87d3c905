// Helpers shared by the torch glue of the CUDA kernels (*_cuda.cpp, host compiler only; the device
// code never includes this header). Argument checks name the op and the argument; launch errors
// become TORCH_CHECK failures; scratch memory comes from torch's caching allocator.
#pragma once

#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAStream.h>

#include <cstddef>
#include <cstdint>

#include "kernels.h"

namespace s2rdepth {
namespace cuda_glue {

// dtype tag of a floating tensor; float16 / bfloat16 only where the op supports them.
inline cuda::DType dtype_tag(const at::Tensor& t, const char* op, const char* name,
                             bool allow_half = true) {
  switch (t.scalar_type()) {
    case at::kFloat: return cuda::DType::kFloat32;
    case at::kDouble: return cuda::DType::kFloat64;
    case at::kHalf:
      if (allow_half) return cuda::DType::kFloat16;
      break;
    case at::kBFloat16:
      if (allow_half) return cuda::DType::kBFloat16;
      break;
    default: break;
  }
  TORCH_CHECK(false, op, ": ", name, " must be ",
              allow_half ? "float32, float64, float16 or bfloat16" : "float32 or float64",
              " on CUDA, got ", t.scalar_type());
  return cuda::DType::kFloat32;  // unreachable
}

// Statistics dtype: float64 for float64 input, float32 otherwise.
inline at::ScalarType stat_dtype(at::ScalarType t) {
  return t == at::kDouble ? at::kDouble : at::kFloat;
}

inline void check_cuda(const at::Tensor& t, const char* op, const char* name) {
  TORCH_CHECK(t.defined(), op, ": ", name, " is undefined");
  TORCH_CHECK(t.is_cuda(), op, ": ", name, " must be a CUDA tensor, got device ", t.device());
}

inline void check_same_device(const at::Tensor& t, const at::Tensor& ref, const char* op,
                              const char* name, const char* ref_name) {
  TORCH_CHECK(t.device() == ref.device(), op, ": ", name, " is on ", t.device(), " but ", ref_name,
              " is on ", ref.device());
}

inline void check_launch(cudaError_t err, const char* op) {
  TORCH_CHECK(err == cudaSuccess, op, ": CUDA kernel launch failed: ", cudaGetErrorString(err));
}

// Multiprocessor count of the current device. (Queried from the runtime rather than through
// ATen/cuda/CUDAContext.h, which drags in the cuBLAS / cuSPARSE headers.)
inline int num_sms() {
  int value = 0;
  C10_CUDA_CHECK(cudaDeviceGetAttribute(&value, cudaDevAttrMultiProcessorCount,
                                        c10::cuda::current_device()));
  return value;
}

// Scratch bytes on the device of `like` (caching allocator); an empty tensor when bytes == 0.
inline at::Tensor workspace(size_t bytes, const at::Tensor& like) {
  return at::empty({static_cast<int64_t>(bytes)}, like.options().dtype(at::kByte));
}

inline void* ptr_or_null(const at::Tensor& t) { return t.defined() ? t.data_ptr() : nullptr; }

}  // namespace cuda_glue
}  // namespace s2rdepth
