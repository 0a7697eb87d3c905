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
