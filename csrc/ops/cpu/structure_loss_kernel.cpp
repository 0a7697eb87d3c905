// CPU kernels of structure_loss / structure_loss_backward (maths: csrc/ops/structure_loss.cpp).
//
// Work is split into fixed blocks of image rows (n, y). For each row the edge weight
// w(x) = exp(-beta * g(x)) is computed once into a small buffer from depth rows y and y + 1 of
// every depth channel, then applied to every structure channel of that row:
//   forward : the row's sum of |M_s| * w goes to a per-block partial; partials are added in block
//             order afterwards, so the result does not depend on the number of threads.
//   backward: dM_s = grad / count * sign(M_s) * w, written in the same sweep.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <cmath>
#include <vector>

#include "ops/cpu/checks.h"
#include "ops/cpu/vec_math.h"

namespace s2rdepth {
namespace cpu {
namespace {

constexpr int64_t kRowsPerBlock = 8;

enum class Mode { kReference, kPaper };

Mode parse_mode(const char* op, c10::string_view mode) {
  if (mode == "reference") return Mode::kReference;
  if (mode == "paper") return Mode::kPaper;
  TORCH_CHECK(false, op, ": mode must be 'reference' or 'paper', got '", std::string(mode), "'");
}

void check_inputs(const char* op, const at::Tensor& s, const at::Tensor& d, double beta) {
  check_floating(op, "structure", s);
  check_floating(op, "depth", d);
  TORCH_CHECK(s.dim() == 4 && d.dim() == 4, op, ": structure and depth must be 4-D (N x C x H x W), got ",
              s.sizes(), " and ", d.sizes());
  TORCH_CHECK(s.numel() > 0 && d.numel() > 0, op, ": structure ", s.sizes(), " or depth ", d.sizes(), " is empty");
  TORCH_CHECK(s.size(0) == d.size(0) && s.size(2) == d.size(2) && s.size(3) == d.size(3), op,
              ": structure ", s.sizes(), " and depth ", d.sizes(), " must agree in N, H and W");
  TORCH_CHECK(s.scalar_type() == d.scalar_type(), op, ": structure dtype ", s.scalar_type(),
              " differs from depth dtype ", d.scalar_type());
  TORCH_CHECK(std::isfinite(beta) && beta >= 0, op, ": beta must be finite and >= 0, got ", beta);
}

// w(x) for row y of sample n: depth d points at sample n, shape Cd x H x W.
template <typename T, typename M>
S2R_CPU_CLONES void row_weights(const T* d, int64_t Cd, int64_t H, int64_t W, int64_t y, M beta, Mode mode, M* w) {
  for (int64_t x = 0; x < W; ++x) w[x] = 0;
  for (int64_t c = 0; c < Cd; ++c) {
    const T* row = d + (c * H + y) * W;
    const T* below = y + 1 < H ? row + W : row;  // replicate padding: dy = 0 on the last row
    // Columns 0 .. W-2 see their right neighbour; the last column has dx = 0 (replicate padding).
    if (mode == Mode::kReference) {
      for (int64_t x = 0; x + 1 < W; ++x) {
        const M v = static_cast<M>(row[x]);
        w[x] += std::abs(v - static_cast<M>(row[x + 1])) + std::abs(v - static_cast<M>(below[x]));
      }
    } else {
      for (int64_t x = 0; x + 1 < W; ++x) {
        const M v = static_cast<M>(row[x]);
        w[x] += std::abs((v - static_cast<M>(row[x + 1])) + (v - static_cast<M>(below[x])));
      }
    }
    w[W - 1] += std::abs(static_cast<M>(row[W - 1]) - static_cast<M>(below[W - 1]));
  }
  const M k = -beta / static_cast<M>(Cd);
  for (int64_t x = 0; x < W; ++x) w[x] = exp_any(k * w[x]);
}

// sum over x of |s(x)| * w(x) for one row.
template <typename T, typename M>
S2R_CPU_CLONES double weighted_abs_sum(const T* s, const M* w, int64_t W) {
  M lanes[kLanes] = {0};
  int64_t x = 0;
  for (; x + kLanes <= W; x += kLanes)
    for (int l = 0; l < kLanes; ++l) lanes[l] += std::abs(static_cast<M>(s[x + l])) * w[x + l];
  for (; x < W; ++x) lanes[0] += std::abs(static_cast<M>(s[x])) * w[x];
  double acc = 0;
  for (int l = 0; l < kLanes; ++l) acc += lanes[l];
  return acc;
}

// out(x) = g * sign(s(x)) * w(x) for one row.
template <typename T, typename M>
S2R_CPU_CLONES void sign_weight_row(T* out, const T* s, const M* w, M g, int64_t W) {
  for (int64_t x = 0; x < W; ++x) {
    const M v = static_cast<M>(s[x]);
    const M sign = v > 0 ? M(1) : (v < 0 ? M(-1) : M(0));
    out[x] = static_cast<T>(g * sign * w[x]);
  }
}

at::Tensor structure_loss_cpu(const at::Tensor& s_in, const at::Tensor& d_in, double beta, c10::string_view mode_s) {
  constexpr const char* op = "s2rdepth::structure_loss";
  check_inputs(op, s_in, d_in, beta);
  const Mode mode = parse_mode(op, mode_s);
  const at::Tensor s = s_in.contiguous(), d = d_in.contiguous();
  const int64_t N = s.size(0), Cs = s.size(1), Cd = d.size(1), H = s.size(2), W = s.size(3);
  const int64_t rows = N * H, blocks = (rows + kRowsPerBlock - 1) / kRowsPerBlock;
  std::vector<double> partial(blocks, 0.0);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, s.scalar_type(), "structure_loss_cpu", [&] {
    using M = opmath_t<scalar_t>;
    const scalar_t* sp = s.data_ptr<scalar_t>();
    const scalar_t* dp = d.data_ptr<scalar_t>();
    at::parallel_for(0, blocks, 1, [&](int64_t b0, int64_t b1) {
      std::vector<M> w(W);
      for (int64_t b = b0; b < b1; ++b) {
        double acc = 0;
        for (int64_t r = b * kRowsPerBlock; r < std::min(rows, (b + 1) * kRowsPerBlock); ++r) {
          const int64_t n = r / H, y = r % H;
          row_weights(dp + n * Cd * H * W, Cd, H, W, y, static_cast<M>(beta), mode, w.data());
          for (int64_t c = 0; c < Cs; ++c) {
            acc += weighted_abs_sum(sp + ((n * Cs + c) * H + y) * W, w.data(), W);
          }
        }
        partial[b] = acc;
      }
    });
  });
  double total = 0;
  for (double v : partial) total += v;
  return at::scalar_tensor(total / static_cast<double>(s.numel()), s.options());
}

at::Tensor structure_loss_backward_cpu(const at::Tensor& grad, const at::Tensor& s_in, const at::Tensor& d_in,
                                       double beta, c10::string_view mode_s) {
  constexpr const char* op = "s2rdepth::structure_loss_backward";
  check_inputs(op, s_in, d_in, beta);
  check_floating(op, "grad", grad);
  TORCH_CHECK(grad.numel() == 1, op, ": grad must hold one value (the loss is a scalar), got shape ", grad.sizes());
  const Mode mode = parse_mode(op, mode_s);
  const at::Tensor s = s_in.contiguous(), d = d_in.contiguous();
  const int64_t N = s.size(0), Cs = s.size(1), Cd = d.size(1), H = s.size(2), W = s.size(3);
  at::Tensor out = at::empty_like(s, at::MemoryFormat::Contiguous);
  const double g = grad.item<double>() / static_cast<double>(s.numel());
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, s.scalar_type(), "structure_loss_backward_cpu", [&] {
    using M = opmath_t<scalar_t>;
    const scalar_t* sp = s.data_ptr<scalar_t>();
    const scalar_t* dp = d.data_ptr<scalar_t>();
    scalar_t* op_ = out.data_ptr<scalar_t>();
    const M gm = static_cast<M>(g);
    at::parallel_for(0, N * H, std::max<int64_t>(1, 4096 / std::max<int64_t>(W, 1)), [&](int64_t r0, int64_t r1) {
      std::vector<M> w(W);
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t n = r / H, y = r % H;
        row_weights(dp + n * Cd * H * W, Cd, H, W, y, static_cast<M>(beta), mode, w.data());
        for (int64_t c = 0; c < Cs; ++c) {
          const int64_t off = ((n * Cs + c) * H + y) * W;
          sign_weight_row(op_ + off, sp + off, w.data(), gm, W);
        }
      }
    });
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(s2rdepth, CPU, m) {
  m.impl("structure_loss", &structure_loss_cpu);
  m.impl("structure_loss_backward", &structure_loss_backward_cpu);
}

}  // namespace cpu
}  // namespace s2rdepth
