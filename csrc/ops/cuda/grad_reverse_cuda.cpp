// CUDA dispatch of s2rdepth::grad_reverse_backward (kernel in grad_reverse_kernel.cu):
// out = -coeff * grad, same shape and dtype as grad.
#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include "cuda_glue.h"
#include "kernels.h"

namespace s2rdepth {
namespace {

using namespace cuda_glue;

at::Tensor grad_reverse_backward_cuda(const at::Tensor& grad_in, double coeff) {
  constexpr const char* op = "s2rdepth::grad_reverse_backward";
  check_cuda(grad_in, op, "grad");
  const cuda::DType tag = dtype_tag(grad_in, op, "grad");
  c10::cuda::CUDAGuard guard(grad_in.device());
  // A dense grad (contiguous, channels-last, ...) is processed in its own memory order and the
  // result keeps its strides (like empty_like); anything else is made contiguous first.
  const at::Tensor grad = grad_in.is_non_overlapping_and_dense() ? grad_in : grad_in.contiguous();
  at::Tensor out = at::empty_like(grad);
  const int64_t n = grad.numel();
  if (n == 0) return out;
  TORCH_CHECK(out.strides() == grad.strides(), op, ": unexpected output layout");
  const cudaError_t err = cuda::grad_reverse_backward(tag, grad.data_ptr(), out.data_ptr(), n, coeff,
                                                      num_sms(), c10::cuda::getCurrentCUDAStream());
  check_launch(err, op);
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(s2rdepth, CUDA, m) {
  m.impl("grad_reverse_backward", TORCH_FN(grad_reverse_backward_cuda));
}

}  // namespace s2rdepth
