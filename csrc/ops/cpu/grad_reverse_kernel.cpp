// CPU kernel of grad_reverse_backward: grad_in = -coeff * grad_out, one vectorisable pass.
// A dense gradient (contiguous, channels-last, any permutation) keeps its strides, as the fake
// kernel (empty_like) and the CUDA kernel do: the elementwise loop runs over its storage block.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include "ops/cpu/checks.h"
#include "ops/cpu/vec_math.h"

namespace s2rdepth {
namespace cpu {
namespace {

at::Tensor grad_reverse_backward_cpu(const at::Tensor& grad_in, double coeff) {
  check_floating("s2rdepth::grad_reverse_backward", "grad", grad_in);
  const at::Tensor grad = grad_in.is_non_overlapping_and_dense() ? grad_in : grad_in.contiguous();
  at::Tensor out = at::empty_like(grad);
  TORCH_INTERNAL_ASSERT(out.strides() == grad.strides());
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, grad.scalar_type(), "grad_reverse_backward_cpu", [&] {
    using M = opmath_t<scalar_t>;
    const scalar_t* g = grad.data_ptr<scalar_t>();
    scalar_t* o = out.data_ptr<scalar_t>();
    const M factor = static_cast<M>(-coeff);
    at::parallel_for(0, grad.numel(), int64_t{1} << 16, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) o[i] = static_cast<scalar_t>(factor * static_cast<M>(g[i]));
    });
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(s2rdepth, CPU, m) {
  m.impl("grad_reverse_backward", &grad_reverse_backward_cpu);
}

}  // namespace cpu
}  // namespace s2rdepth
