// Schema of the gradient reversal layer (Ganin & Lempitsky, DANN).
//   grad_reverse          : forward returns an alias of x (no copy); gradient is -coeff * grad
//   grad_reverse_backward : the kernel, out = -coeff * grad
#include <ATen/ATen.h>
#include <ATen/core/dispatch/Dispatcher.h>
#include <torch/library.h>

#include "ops/ops.h"

TORCH_LIBRARY_FRAGMENT(s2rdepth, m) {
  m.def("grad_reverse(Tensor(a) x, float coeff=1.0) -> Tensor(a)");
  m.def("grad_reverse_backward(Tensor grad, float coeff) -> Tensor");
}

namespace s2rdepth {
namespace ops {

at::Tensor grad_reverse_backward(const at::Tensor& grad, double coeff) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("s2rdepth::grad_reverse_backward", "")
                       .typed<decltype(grad_reverse_backward)>();
  return op.call(grad, coeff);
}

namespace {
// Below autograd the forward is the identity: hand back a view sharing x's storage.
at::Tensor grad_reverse_forward(const at::Tensor& x, double coeff) { return x.alias(); }
}  // namespace

TORCH_LIBRARY_IMPL(s2rdepth, CompositeExplicitAutograd, m) {
  m.impl("grad_reverse", &grad_reverse_forward);
}

// Kernels that autograd never differentiates through: the Autograd key falls through to them.
TORCH_LIBRARY_IMPL(s2rdepth, Autograd, m) {
  m.impl("grad_reverse_backward", torch::CppFunction::makeFallthrough());
}

}  // namespace ops
}  // namespace s2rdepth
