// Schema of the depth-gradient-weighted structure regulariser (S2R-DepthNet stage 2, Eq. 1).
//   structure_loss(structure M_s [N, Cs, H, W], depth D [N, Cd, H, W]) -> 0-dim mean of
//     |M_s| * w,  w = exp(-beta * g),  g per (n, y, x):
//       mode "reference": mean_c(|dx D| + |dy D|)   (official code)
//       mode "paper"    : mean_c(|dx D + dy D|)     (Eq. 1)
//     dx D(y, x) = D(y, x) - D(y, x + 1), dy D(y, x) = D(y, x) - D(y + 1, x); replicate padding
//     makes the last column / row difference 0. The mean runs over all N * Cs * H * W entries.
//   structure_loss_backward : d loss / d structure = grad * sign(M_s) * w / (N * Cs * H * W);
//     depth is a target and gets no gradient.
#include <torch/library.h>

TORCH_LIBRARY_FRAGMENT(s2rdepth, m) {
  m.def("structure_loss(Tensor structure, Tensor depth, float beta=0.001, str mode=\"reference\") -> Tensor");
  m.def(
      "structure_loss_backward(Tensor grad, Tensor structure, Tensor depth, float beta, str mode) "
      "-> Tensor");
}

#include <ATen/core/dispatch/Dispatcher.h>

#include "ops/ops.h"

namespace s2rdepth {
namespace ops {

at::Tensor structure_loss(const at::Tensor& structure, const at::Tensor& depth, double beta,
                          c10::string_view mode) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("s2rdepth::structure_loss", "")
                       .typed<decltype(structure_loss)>();
  return op.call(structure, depth, beta, mode);
}

at::Tensor structure_loss_backward(const at::Tensor& grad, const at::Tensor& structure,
                                   const at::Tensor& depth, double beta, c10::string_view mode) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("s2rdepth::structure_loss_backward", "")
                       .typed<decltype(structure_loss_backward)>();
  return op.call(grad, structure, depth, beta, mode);
}

// Kernels that autograd never differentiates through: the Autograd key falls through to them.
TORCH_LIBRARY_IMPL(s2rdepth, Autograd, m) {
  m.impl("structure_loss_backward", torch::CppFunction::makeFallthrough());
}

}  // namespace ops
}  // namespace s2rdepth
