// Autograd of adain: forward through adain_forward (saving mean and rstd), backward through the
// fused adain_backward. A [C] weight or bias gets the per-(n, c) sums reduced over N.
#include <torch/autograd.h>
#include <torch/library.h>

#include "ops/ops.h"

namespace s2rdepth {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

class AdaINFunction : public torch::autograd::Function<AdaINFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x,
                            const std::optional<at::Tensor>& weight,
                            const std::optional<at::Tensor>& bias, double eps) {
    at::AutoDispatchBelowADInplaceOrView guard;
    auto [out, mean, rstd] = ops::adain_forward(x, weight, bias, eps);
    const bool has_w = weight.has_value() && weight->defined();
    const bool has_b = bias.has_value() && bias->defined();
    ctx->save_for_backward({x, has_w ? *weight : at::Tensor(), mean, rstd});
    ctx->saved_data["has_weight"] = has_w;
    ctx->saved_data["weight_per_sample"] = has_w && weight->dim() == 2;
    ctx->saved_data["has_bias"] = has_b;
    ctx->saved_data["bias_per_sample"] = has_b && bias->dim() == 2;
    ctx->saved_data["bias_dtype"] = has_b ? bias->scalar_type() : x.scalar_type();
    return out;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor& x = saved[0];
    const at::Tensor& weight = saved[1];
    const bool has_w = ctx->saved_data["has_weight"].toBool();
    const bool has_b = ctx->saved_data["has_bias"].toBool();
    const at::Tensor grad_out = grads[0].defined() ? grads[0] : at::zeros_like(x);
    auto [grad_x, sum_dy_xhat, sum_dy] =
        ops::adain_backward(grad_out, x, has_w ? std::optional<at::Tensor>(weight) : std::nullopt,
                            saved[2], saved[3], ctx->needs_input_grad(0));
    // needs_input_grad counts only the tensors actually passed: x, then weight, then bias.
    const bool want_w = has_w && ctx->needs_input_grad(1);
    const bool want_b = has_b && ctx->needs_input_grad(has_w ? 2 : 1);
    at::Tensor grad_w, grad_b;
    if (want_w) {
      grad_w = ctx->saved_data["weight_per_sample"].toBool() ? sum_dy_xhat : sum_dy_xhat.sum(0);
      grad_w = grad_w.to(weight.scalar_type());
    }
    if (want_b) {
      grad_b = ctx->saved_data["bias_per_sample"].toBool() ? sum_dy : sum_dy.sum(0);
      grad_b = grad_b.to(ctx->saved_data["bias_dtype"].toScalarType());
    }
    return {ctx->needs_input_grad(0) ? grad_x : at::Tensor(), grad_w, grad_b, at::Tensor()};
  }
};

at::Tensor adain_autograd(const at::Tensor& x, const std::optional<at::Tensor>& weight,
                          const std::optional<at::Tensor>& bias, double eps) {
  return AdaINFunction::apply(x, weight, bias, eps);
}

}  // namespace

TORCH_LIBRARY_IMPL(s2rdepth, Autograd, m) {
  m.impl("adain", &adain_autograd);
}

}  // namespace s2rdepth
