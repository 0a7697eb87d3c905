// Autograd of structure_loss: gradient with respect to the structure map only (depth is a target).
#include <torch/autograd.h>
#include <torch/library.h>

#include "ops/ops.h"

namespace s2rdepth {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class StructureLossFunction : public torch::autograd::Function<StructureLossFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& structure, const at::Tensor& depth,
                            double beta, c10::string_view mode) {
    at::AutoDispatchBelowADInplaceOrView guard;
    ctx->save_for_backward({structure, depth});
    ctx->saved_data["beta"] = beta;
    ctx->saved_data["mode"] = std::string(mode);
    return ops::structure_loss(structure, depth, beta, mode);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    at::Tensor grad_structure;
    if (ctx->needs_input_grad(0) && grads[0].defined()) {
      grad_structure = ops::structure_loss_backward(grads[0], saved[0], saved[1],
                                                    ctx->saved_data["beta"].toDouble(),
                                                    ctx->saved_data["mode"].toStringRef());
    }
    return {grad_structure, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

at::Tensor structure_loss_autograd(const at::Tensor& structure, const at::Tensor& depth, double beta,
                                   c10::string_view mode) {
  return StructureLossFunction::apply(structure, depth, beta, mode);
}

}  // namespace

TORCH_LIBRARY_IMPL(s2rdepth, Autograd, m) {
  m.impl("structure_loss", &structure_loss_autograd);
}

}  // namespace s2rdepth
