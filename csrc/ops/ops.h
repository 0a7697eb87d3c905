// C++ entry points of the s2rdepth operators: each calls its op through the dispatcher, so the
// right kernel (CPU, CUDA, autograd, fake) runs. Schemas and semantics: csrc/ops/<op>.cpp.
#pragma once

#include <ATen/ATen.h>

#include <optional>
#include <string>
#include <tuple>

namespace s2rdepth {
namespace ops {

at::Tensor adain(const at::Tensor& x, const std::optional<at::Tensor>& weight,
                 const std::optional<at::Tensor>& bias, double eps);
std::tuple<at::Tensor, at::Tensor, at::Tensor> adain_forward(
    const at::Tensor& x, const std::optional<at::Tensor>& weight,
    const std::optional<at::Tensor>& bias, double eps);
std::tuple<at::Tensor, at::Tensor, at::Tensor> adain_backward(
    const at::Tensor& grad_out, const at::Tensor& x, const std::optional<at::Tensor>& weight,
    const at::Tensor& mean, const at::Tensor& rstd, bool compute_grad_x);

at::Tensor grad_reverse_backward(const at::Tensor& grad, double coeff);

at::Tensor structure_loss(const at::Tensor& structure, const at::Tensor& depth, double beta,
                          c10::string_view mode);
at::Tensor structure_loss_backward(const at::Tensor& grad, const at::Tensor& structure,
                                   const at::Tensor& depth, double beta, c10::string_view mode);

at::Tensor depth_metrics(const at::Tensor& pred, const at::Tensor& gt, double min_depth,
                         double max_depth, bool garg_crop, bool median_scaling,
                         c10::string_view order);

}  // namespace ops
}  // namespace s2rdepth
