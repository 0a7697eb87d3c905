// CUDA dispatch of s2rdepth::adain_forward and s2rdepth::adain_backward (kernels in
// adain_kernel.cu). Same outputs as the CPU kernels: out in x's dtype and shape; mean, rstd and the
// two backward sums N x C in float32 (float64 for float64 x).
#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/library.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <tuple>

#include "cuda_glue.h"
#include "kernels.h"

namespace s2rdepth {
namespace {

using namespace cuda_glue;

// Optional [C] or [N, C] affine parameter of x's dtype (contiguous), with its stride over n.
// Argument checks match the CPU kernels (csrc/ops/cpu/adain_kernel.cpp).
at::Tensor affine_param(const std::optional<at::Tensor>& t, const at::Tensor& x, int64_t N,
                        int64_t C, const char* op, const char* name, int64_t* nstride) {
  *nstride = 0;
  if (!t.has_value() || !t->defined()) return at::Tensor();
  check_cuda(*t, op, name);
  check_same_device(*t, x, op, name, "x");
  const bool per_channel = t->dim() == 1 && t->size(0) == C;
  const bool per_sample = t->dim() == 2 && t->size(0) == N && t->size(1) == C;
  TORCH_CHECK(per_channel || per_sample, op, ": ", name, " must have shape [C]=[", C,
              "] or [N, C]=[", N, ", ", C, "], got ", t->sizes());
  TORCH_CHECK(t->scalar_type() == x.scalar_type(), op, ": ", name, " dtype ", t->scalar_type(),
              " differs from x dtype ", x.scalar_type());
  *nstride = per_sample ? C : 0;
  return t->contiguous();
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> adain_forward_cuda(
    const at::Tensor& x_in, const std::optional<at::Tensor>& weight,
    const std::optional<at::Tensor>& bias, double eps) {
  constexpr const char* op = "s2rdepth::adain_forward";
  check_cuda(x_in, op, "x");
  TORCH_CHECK(x_in.dim() == 4, op, ": x must be 4-D (N, C, H, W), got shape ", x_in.sizes());
  TORCH_CHECK(x_in.numel() > 0, op, ": x is empty (shape ", x_in.sizes(), ")");
  TORCH_CHECK(eps > 0, op, ": eps must be > 0, got ", eps);
  const cuda::DType tag = dtype_tag(x_in, op, "x");
  c10::cuda::CUDAGuard guard(x_in.device());

  const at::Tensor x = x_in.contiguous();
  const int64_t N = x.size(0), C = x.size(1), HW = x.size(2) * x.size(3);
  TORCH_CHECK(N * C <= std::numeric_limits<int32_t>::max(), op, ": N * C = ", N * C,
              " planes exceed the CUDA grid limit");
  int64_t w_ns = 0, b_ns = 0;
  const at::Tensor w = affine_param(weight, x, N, C, op, "weight", &w_ns);
  const at::Tensor b = affine_param(bias, x, N, C, op, "bias", &b_ns);

  at::Tensor out = at::empty(x.sizes(), x.options());
  const auto stats = x.options().dtype(stat_dtype(x.scalar_type()));
  at::Tensor mean = at::empty({N, C}, stats);
  at::Tensor rstd = at::empty({N, C}, stats);

  const int sms = num_sms();
  at::Tensor ws = workspace(cuda::adain_forward_workspace_bytes(tag, N, C, HW, sms), x);
  const cudaError_t err = cuda::adain_forward(
      tag, x.data_ptr(), ptr_or_null(w), w_ns, ptr_or_null(b), b_ns, out.data_ptr(),
      mean.data_ptr(), rstd.data_ptr(), N, C, HW, eps, ptr_or_null(ws), sms,
      c10::cuda::getCurrentCUDAStream());
  check_launch(err, op);
  return {out, mean, rstd};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> adain_backward_cuda(
    const at::Tensor& grad_out_in, const at::Tensor& x_in, const std::optional<at::Tensor>& weight,
    const at::Tensor& mean_in, const at::Tensor& rstd_in, bool compute_grad_x) {
  constexpr const char* op = "s2rdepth::adain_backward";
  check_cuda(x_in, op, "x");
  check_cuda(grad_out_in, op, "grad_out");
  check_cuda(mean_in, op, "mean");
  check_cuda(rstd_in, op, "rstd");
  check_same_device(grad_out_in, x_in, op, "grad_out", "x");
  check_same_device(mean_in, x_in, op, "mean", "x");
  check_same_device(rstd_in, x_in, op, "rstd", "x");
  TORCH_CHECK(x_in.dim() == 4, op, ": x must be 4-D (N, C, H, W), got shape ", x_in.sizes());
  TORCH_CHECK(x_in.numel() > 0, op, ": x is empty (shape ", x_in.sizes(), ")");
  TORCH_CHECK(grad_out_in.sizes() == x_in.sizes(), op, ": grad_out must have the shape of x ",
              x_in.sizes(), ", got ", grad_out_in.sizes());
  TORCH_CHECK(grad_out_in.scalar_type() == x_in.scalar_type(), op, ": grad_out dtype ",
              grad_out_in.scalar_type(), " differs from x dtype ", x_in.scalar_type());
  const cuda::DType tag = dtype_tag(x_in, op, "x");
  const int64_t N = x_in.size(0), C = x_in.size(1), HW = x_in.size(2) * x_in.size(3);
  TORCH_CHECK(N * C <= std::numeric_limits<int32_t>::max(), op, ": N * C = ", N * C,
              " planes exceed the CUDA grid limit");
  const at::ScalarType sdt = stat_dtype(x_in.scalar_type());
  const auto check_stat = [&](const at::Tensor& t, const char* name) {
    TORCH_CHECK(t.sizes() == at::IntArrayRef({N, C}) && t.scalar_type() == sdt, op, ": ", name,
                " must be [N, C] = [", N, ", ", C, "] of dtype ", sdt, ", got ", t.sizes(), " ",
                t.scalar_type());
  };
  check_stat(mean_in, "mean");
  check_stat(rstd_in, "rstd");
  c10::cuda::CUDAGuard guard(x_in.device());

  const at::Tensor x = x_in.contiguous();
  const at::Tensor dy = grad_out_in.contiguous();
  const at::Tensor mean = mean_in.contiguous();
  const at::Tensor rstd = rstd_in.contiguous();
  int64_t w_ns = 0;
  const at::Tensor w = affine_param(weight, x, N, C, op, "weight", &w_ns);

  at::Tensor grad_x = compute_grad_x ? at::empty(x.sizes(), x.options()) : x.new_empty({0});
  const auto stats = x.options().dtype(sdt);
  at::Tensor sum_dy_xhat = at::empty({N, C}, stats);
  at::Tensor sum_dy = at::empty({N, C}, stats);

  const int sms = num_sms();
  at::Tensor ws = workspace(cuda::adain_backward_workspace_bytes(tag, N, C, HW, sms), x);
  const cudaError_t err = cuda::adain_backward(
      tag, dy.data_ptr(), x.data_ptr(), ptr_or_null(w), w_ns, mean.data_ptr(), rstd.data_ptr(),
      compute_grad_x ? grad_x.data_ptr() : nullptr, sum_dy_xhat.data_ptr(), sum_dy.data_ptr(), N,
      C, HW, ptr_or_null(ws), sms, c10::cuda::getCurrentCUDAStream());
  check_launch(err, op);
  return {grad_x, sum_dy_xhat, sum_dy};
}

}  // namespace

TORCH_LIBRARY_IMPL(s2rdepth, CUDA, m) {
  m.impl("adain_forward", TORCH_FN(adain_forward_cuda));
  m.impl("adain_backward", TORCH_FN(adain_backward_cuda));
}

}  // namespace s2rdepth
