// Schema of the fused instance-norm / AdaIN operator.
//   adain          : y = (x - mean_hw(x)) * rstd * weight + bias, differentiable (autograd/adain.cpp)
//   adain_forward  : the kernel; also returns per-(n, c) mean and rstd (float32, or float64 for
//                    float64 input), both N x C, that the backward reuses
//   adain_backward : fused backward. Returns grad_x (empty when not compute_grad_x) and the
//                    per-(n, c) sums  sum_hw(dy * xhat)  and  sum_hw(dy)  (N x C, statistics dtype):
//                    the gradients of an [N, C] weight and bias; autograd sums them over N for a
//                    per-channel [C] affine.
// weight and bias are optional and either per channel ([C]) or per sample and channel ([N, C]).
#include <torch/library.h>

TORCH_LIBRARY_FRAGMENT(s2rdepth, m) {
  m.def("adain(Tensor x, Tensor? weight, Tensor? bias, float eps=1e-05) -> Tensor");
  m.def("adain_forward(Tensor x, Tensor? weight, Tensor? bias, float eps) -> (Tensor, Tensor, Tensor)");
  m.def(
      "adain_backward(Tensor grad_out, Tensor x, Tensor? weight, Tensor mean, Tensor rstd, "
      "bool compute_grad_x=True) -> (Tensor, Tensor, Tensor)");
}

#include <ATen/core/dispatch/Dispatcher.h>

#include "ops/ops.h"

namespace s2rdepth {
namespace ops {

std::tuple<at::Tensor, at::Tensor, at::Tensor> adain_forward(
    const at::Tensor& x, const std::optional<at::Tensor>& weight,
    const std::optional<at::Tensor>& bias, double eps) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("s2rdepth::adain_forward", "")
                       .typed<decltype(adain_forward)>();
  return op.call(x, weight, bias, eps);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> adain_backward(
    const at::Tensor& grad_out, const at::Tensor& x, const std::optional<at::Tensor>& weight,
    const at::Tensor& mean, const at::Tensor& rstd, bool compute_grad_x) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("s2rdepth::adain_backward", "")
                       .typed<decltype(adain_backward)>();
  return op.call(grad_out, x, weight, mean, rstd, compute_grad_x);
}

at::Tensor adain(const at::Tensor& x, const std::optional<at::Tensor>& weight,
                 const std::optional<at::Tensor>& bias, double eps) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("s2rdepth::adain", "")
                       .typed<decltype(adain)>();
  return op.call(x, weight, bias, eps);
}

namespace {
// Without autograd (inference, fake tensors) adain is its forward kernel's first output.
at::Tensor adain_composite(const at::Tensor& x, const std::optional<at::Tensor>& weight,
                           const std::optional<at::Tensor>& bias, double eps) {
  return std::get<0>(adain_forward(x, weight, bias, eps));
}
}  // namespace

TORCH_LIBRARY_IMPL(s2rdepth, CompositeExplicitAutograd, m) {
  m.impl("adain", &adain_composite);
}

// Kernels that autograd never differentiates through: the Autograd key falls through to them.
TORCH_LIBRARY_IMPL(s2rdepth, Autograd, m) {
  m.impl("adain_forward", torch::CppFunction::makeFallthrough());
  m.impl("adain_backward", torch::CppFunction::makeFallthrough());
}

}  // namespace ops
}  // namespace s2rdepth
