// CPU kernels of adain_forward / adain_backward (schema and maths: csrc/ops/adain.cpp).
//
// One task handles whole (n, c) planes of the contiguous N x C x H x W input:
//   forward : pass 1 reads the plane once for shifted sums (double accumulators, 8 lanes),
//             pass 2 writes y = (x - mean) * scale + b with scale = rstd * w.
//   backward: pass 1 reads dy and x once for sum(dy) and sum(dy * x); pass 2 writes
//             dx = a * dy + b * (x - mean) + c, per-plane constants folding the whole formula
//             dx = w * rstd * (dy - mean(dy) - xhat * mean(dy * xhat)).
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <cmath>
#include <optional>

#include "ops/cpu/checks.h"
#include "ops/cpu/vec_math.h"

namespace s2rdepth {
namespace cpu {
namespace {

constexpr const char* kFwd = "s2rdepth::adain_forward";
constexpr const char* kBwd = "s2rdepth::adain_backward";

at::ScalarType stat_type(at::ScalarType t) {
  return t == at::kDouble ? at::kDouble : at::kFloat;
}

// Planes per parallel task: enough elements per task to amortise scheduling.
int64_t plane_grain(int64_t hw) { return std::max<int64_t>(1, (int64_t{1} << 15) / std::max<int64_t>(hw, 1)); }

// Index of plane (n, c) into a [C] or [N, C] affine parameter; -1 when absent.
struct AffineIndex {
  bool present = false;
  bool per_sample = false;
  int64_t operator()(int64_t plane, int64_t C) const { return per_sample ? plane : plane % C; }
};

AffineIndex affine_index(const std::optional<at::Tensor>& t) {
  AffineIndex a;
  if (t.has_value() && t->defined()) {
    a.present = true;
    a.per_sample = t->dim() == 2;
  }
  return a;
}

void check_x(const char* op, const at::Tensor& x) {
  check_floating(op, "x", x);
  TORCH_CHECK(x.dim() == 4, op, ": x must be N x C x H x W, got shape ", x.sizes());
  TORCH_CHECK(x.numel() > 0, op, ": x is empty (shape ", x.sizes(), ")");
}

// Statistics of one plane: returns (mean, rstd) in double.
template <typename T>
S2R_CPU_CLONES void plane_stats(const T* x, int64_t hw, double eps, double& mean, double& rstd) {
  const double shift = static_cast<double>(x[0]);
  double s1, s2;
  shifted_moments(x, hw, shift, s1, s2);
  const double m1 = s1 / hw;
  mean = shift + m1;
  rstd = 1.0 / std::sqrt(std::max(s2 / hw - m1 * m1, 0.0) + eps);
}

// y = (x - center) * scale + offset over one plane.
template <typename T, typename M>
S2R_CPU_CLONES void plane_normalise(T* y, const T* x, int64_t hw, M center, M scale, M offset) {
  for (int64_t i = 0; i < hw; ++i) y[i] = static_cast<T>((static_cast<M>(x[i]) - center) * scale + offset);
}

// sum(dy) and sum(dy * x) over one plane.
template <typename T>
S2R_CPU_CLONES void plane_grad_sums(const T* dy, const T* x, int64_t hw, double& s_dy, double& s_dyx) {
  dot_moments(dy, x, hw, s_dy, s_dyx);
}

// dx = a * dy + b * (x - center) + c over one plane.
template <typename T, typename M>
S2R_CPU_CLONES void plane_grad_x(T* dx, const T* dy, const T* x, int64_t hw, M a, M b, M c, M center) {
  for (int64_t i = 0; i < hw; ++i)
    dx[i] = static_cast<T>(a * static_cast<M>(dy[i]) + b * (static_cast<M>(x[i]) - center) + c);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> adain_forward_cpu(
    const at::Tensor& x_in, const std::optional<at::Tensor>& weight_in,
    const std::optional<at::Tensor>& bias_in, double eps) {
  check_x(kFwd, x_in);
  check_affine(kFwd, "weight", weight_in, x_in);
  check_affine(kFwd, "bias", bias_in, x_in);
  TORCH_CHECK(eps > 0, kFwd, ": eps must be > 0, got ", eps);
  const at::Tensor x = x_in.contiguous();
  const int64_t N = x.size(0), C = x.size(1), HW = x.size(2) * x.size(3);
  at::Tensor out = at::empty_like(x, at::MemoryFormat::Contiguous);
  at::Tensor mean = at::empty({N, C}, x.options().dtype(stat_type(x.scalar_type())));
  at::Tensor rstd = at::empty_like(mean);
  const at::Tensor weight = weight_in.has_value() && weight_in->defined() ? weight_in->contiguous() : at::Tensor();
  const at::Tensor bias = bias_in.has_value() && bias_in->defined() ? bias_in->contiguous() : at::Tensor();
  const AffineIndex wi = affine_index(weight_in), bi = affine_index(bias_in);

  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "adain_forward_cpu", [&] {
    using stat_t = std::conditional_t<std::is_same<scalar_t, double>::value, double, float>;
    using M = opmath_t<scalar_t>;
    const scalar_t* xp = x.data_ptr<scalar_t>();
    scalar_t* yp = out.data_ptr<scalar_t>();
    stat_t* mp = mean.data_ptr<stat_t>();
    stat_t* rp = rstd.data_ptr<stat_t>();
    const scalar_t* wp = wi.present ? weight.data_ptr<scalar_t>() : nullptr;
    const scalar_t* bp = bi.present ? bias.data_ptr<scalar_t>() : nullptr;
    at::parallel_for(0, N * C, plane_grain(HW), [&](int64_t begin, int64_t end) {
      for (int64_t p = begin; p < end; ++p) {
        const scalar_t* xs = xp + p * HW;
        double mu, r;
        plane_stats(xs, HW, eps, mu, r);
        mp[p] = static_cast<stat_t>(mu);
        rp[p] = static_cast<stat_t>(r);
        const double w = wp ? static_cast<double>(wp[wi(p, C)]) : 1.0;
        const double b = bp ? static_cast<double>(bp[bi(p, C)]) : 0.0;
        plane_normalise(yp + p * HW, xs, HW, static_cast<M>(mu), static_cast<M>(r * w), static_cast<M>(b));
      }
    });
  });
  return {out, mean, rstd};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> adain_backward_cpu(
    const at::Tensor& grad_in, const at::Tensor& x_in, const std::optional<at::Tensor>& weight_in,
    const at::Tensor& mean_in, const at::Tensor& rstd_in, bool compute_grad_x) {
  check_x(kBwd, x_in);
  check_floating(kBwd, "grad_out", grad_in);
  TORCH_CHECK(grad_in.sizes() == x_in.sizes(), kBwd, ": grad_out shape ", grad_in.sizes(),
              " differs from x shape ", x_in.sizes());
  TORCH_CHECK(grad_in.scalar_type() == x_in.scalar_type(), kBwd, ": grad_out dtype ",
              grad_in.scalar_type(), " differs from x dtype ", x_in.scalar_type());
  check_affine(kBwd, "weight", weight_in, x_in);
  const int64_t N = x_in.size(0), C = x_in.size(1), HW = x_in.size(2) * x_in.size(3);
  const auto st = stat_type(x_in.scalar_type());
  for (const auto* t : {&mean_in, &rstd_in}) {
    TORCH_CHECK(t->sizes() == at::IntArrayRef({N, C}) && t->scalar_type() == st, kBwd,
                ": mean and rstd must be [N, C] = [", N, ", ", C, "] of dtype ", st, ", got ",
                t->sizes(), " ", t->scalar_type());
  }
  const at::Tensor x = x_in.contiguous(), dy = grad_in.contiguous();
  const at::Tensor mean = mean_in.contiguous(), rstd = rstd_in.contiguous();
  const at::Tensor weight = weight_in.has_value() && weight_in->defined() ? weight_in->contiguous() : at::Tensor();
  const AffineIndex wi = affine_index(weight_in);
  at::Tensor grad_x = compute_grad_x ? at::empty_like(x, at::MemoryFormat::Contiguous) : x.new_empty({0});
  at::Tensor sum_dy_xhat = at::empty({N, C}, x.options().dtype(st));
  at::Tensor sum_dy = at::empty_like(sum_dy_xhat);

  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, x.scalar_type(), "adain_backward_cpu", [&] {
    using stat_t = std::conditional_t<std::is_same<scalar_t, double>::value, double, float>;
    using M = opmath_t<scalar_t>;
    const scalar_t* xp = x.data_ptr<scalar_t>();
    const scalar_t* gp = dy.data_ptr<scalar_t>();
    scalar_t* dxp = compute_grad_x ? grad_x.data_ptr<scalar_t>() : nullptr;
    const stat_t* mp = mean.data_ptr<stat_t>();
    const stat_t* rp = rstd.data_ptr<stat_t>();
    stat_t* sgx = sum_dy_xhat.data_ptr<stat_t>();
    stat_t* sg = sum_dy.data_ptr<stat_t>();
    const scalar_t* wp = wi.present ? weight.data_ptr<scalar_t>() : nullptr;
    at::parallel_for(0, N * C, plane_grain(HW), [&](int64_t begin, int64_t end) {
      for (int64_t p = begin; p < end; ++p) {
        const scalar_t* xs = xp + p * HW;
        const scalar_t* gs = gp + p * HW;
        const double mu = static_cast<double>(mp[p]);
        const double r = static_cast<double>(rp[p]);
        double s_dy, s_dyx;
        plane_grad_sums(gs, xs, HW, s_dy, s_dyx);
        const double s_dyxhat = r * (s_dyx - mu * s_dy);  // sum(dy * (x - mu) * rstd)
        sg[p] = static_cast<stat_t>(s_dy);
        sgx[p] = static_cast<stat_t>(s_dyxhat);
        if (!compute_grad_x) continue;
        const double w = wp ? static_cast<double>(wp[wi(p, C)]) : 1.0;
        // dx = w r (dy - s_dy/HW - (x - mu) r s_dyxhat/HW) = a dy + b (x - mu) + c
        const M a = static_cast<M>(w * r);
        const M b = static_cast<M>(-w * r * r * s_dyxhat / HW);
        const M c = static_cast<M>(-w * r * s_dy / HW);
        plane_grad_x(dxp + p * HW, gs, xs, HW, a, b, c, static_cast<M>(mu));
      }
    });
  });
  return {grad_x, sum_dy_xhat, sum_dy};
}

}  // namespace

TORCH_LIBRARY_IMPL(s2rdepth, CPU, m) {
  m.impl("adain_forward", &adain_forward_cpu);
  m.impl("adain_backward", &adain_backward_cpu);
}

}  // namespace cpu
}  // namespace s2rdepth
