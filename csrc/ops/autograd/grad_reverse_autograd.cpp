// Autograd of grad_reverse: the forward is a view of x; the backward runs grad_reverse_backward.
#include <torch/autograd.h>
#include <torch/library.h>

#include "ops/ops.h"

namespace s2rdepth {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class GradReverseFunction : public torch::autograd::Function<GradReverseFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, double coeff) {
    ctx->saved_data["coeff"] = coeff;
    // alias() outside the below-autograd guard, so autograd records the output as a view of x.
    return x.alias();
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    if (!grads[0].defined()) return {at::Tensor(), at::Tensor()};
    return {ops::grad_reverse_backward(grads[0], ctx->saved_data["coeff"].toDouble()), at::Tensor()};
  }
};

at::Tensor grad_reverse_autograd(const at::Tensor& x, double coeff) {
  return GradReverseFunction::apply(x, coeff);
}

}  // namespace

TORCH_LIBRARY_IMPL(s2rdepth, Autograd, m) {
  m.impl("grad_reverse", &grad_reverse_autograd);
}

}  // namespace s2rdepth
