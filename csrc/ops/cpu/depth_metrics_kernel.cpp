// CPU kernel of depth_metrics (protocol: csrc/ops/depth_metrics.cpp, REFERENCE.md section 3).
//
// Images are independent tasks. Per image: one sweep over the (cropped) rows gathers the valid
// (gt, pred) pairs into per-thread buffers (vectorised validity masks, set bits visited only); medians come from std::nth_element
// (selection, O(n)) with NumPy's even-count rule; one more sweep over the gathered pairs
// accumulates every metric in double. Only the ~5 % valid pixels of KITTI ground truth are
// touched after the first sweep.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "ops/cpu/checks.h"
#include "ops/cpu/vec_math.h"

namespace s2rdepth {
namespace cpu {
namespace {

constexpr const char* kOp = "s2rdepth::depth_metrics";
constexpr int kColumns = 10;  // abs_rel, sq_rel, rmse, rmse_log, log10, a1, a2, a3, scale, valid
// Garg crop fractions (rows, then columns) as in the reference evaluation code.
constexpr double kCrop[4] = {0.40810811, 0.99189189, 0.03594771, 0.96405229};

// NumPy median of v (reordered in place): the middle value, or the mean of the two middle ones.
// NaN anywhere gives NaN, as NumPy.
double numpy_median(std::vector<double>& v) {
  const size_t n = v.size(), k = n / 2;
  if (std::any_of(v.begin(), v.end(), [](double x) { return std::isnan(x); }))
    return std::numeric_limits<double>::quiet_NaN();
  std::nth_element(v.begin(), v.begin() + k, v.end());
  const double upper = v[k];
  if (n % 2) return upper;
  const double lower = *std::max_element(v.begin(), v.begin() + k);
  return 0.5 * (lower + upper);
}

struct Protocol {
  double min_depth, max_depth;
  bool median_scaling;
  bool clamp_first;  // "s2r" order
};

// Sums over the valid pixels of one image, prediction already scaled/clamped by the protocol.
struct Sums {
  double abs_rel = 0, sq_rel = 0, sq = 0, sq_log = 0, abs_log = 0;
  int64_t a1 = 0, a2 = 0, a3 = 0;
};

// One sweep over the gathered pairs. ln(g / p) serves both rmse_log (ln g - ln p) and log10
// (ln(g / p) / ln 10): one logarithm per pixel instead of four. fast_log: every g / p is known to
// be positive and finite (min_depth > 0 and a positive, finite scale), so the vectorisable
// log_pos_f64 is used; otherwise std::log keeps NumPy's NaN / inf behaviour.
template <bool fast_log>
S2R_CPU_CLONES Sums accumulate(const double* g, const double* p, int64_t n, double ratio, double lo,
                               double hi, bool clamp_after) {
  double abs_rel[4] = {0}, sq_rel[4] = {0}, sq[4] = {0}, sq_log[4] = {0}, abs_log[4] = {0};
  double a1[4] = {0}, a2[4] = {0}, a3[4] = {0};
  const double clamp_lo = clamp_after ? lo : -std::numeric_limits<double>::infinity();
  const double clamp_hi = clamp_after ? hi : std::numeric_limits<double>::infinity();
  int64_t i = 0;
  auto step = [&](int l, double gv, double pv) {
    pv = std::min(std::max(pv * ratio, clamp_lo), clamp_hi);
    const double diff = gv - pv, inv_g = 1.0 / gv, r = gv / pv;
    const double dlog = fast_log ? log_pos_f64(r) : std::log(r);
    const double t = std::max(r, pv * inv_g);
    abs_rel[l] += std::abs(diff) * inv_g;
    sq_rel[l] += diff * diff * inv_g;
    sq[l] += diff * diff;
    sq_log[l] += dlog * dlog;
    abs_log[l] += std::abs(dlog);
    a1[l] += t < 1.25 ? 1.0 : 0.0;
    a2[l] += t < 1.25 * 1.25 ? 1.0 : 0.0;
    a3[l] += t < 1.25 * 1.25 * 1.25 ? 1.0 : 0.0;
  };
  for (; i + 4 <= n; i += 4)
    for (int l = 0; l < 4; ++l) step(l, g[i + l], p[i + l]);
  for (; i < n; ++i) step(0, g[i], p[i]);
  Sums s;
  for (int l = 0; l < 4; ++l) {
    s.abs_rel += abs_rel[l];
    s.sq_rel += sq_rel[l];
    s.sq += sq[l];
    s.sq_log += sq_log[l];
    s.abs_log += abs_log[l];
    s.a1 += static_cast<int64_t>(a1[l]);
    s.a2 += static_cast<int64_t>(a2[l]);
    s.a3 += static_cast<int64_t>(a3[l]);
  }
  if (fast_log && std::isnan(s.sq)) s.sq_log = s.abs_log = s.sq;  // a NaN prediction: NaN, as std::log gives
  return s;
}

// Metrics of one image from its n valid (gt, pred) pairs; row is a kColumns-long output row.
// p is modified (clamped first in the "s2r" order); scratch holds a copy for the selections.
void image_metrics(const double* g, double* p, int64_t n, std::vector<double>& scratch,
                   const Protocol& pr, double* row) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (n == 0) {
    for (int j = 0; j < kColumns - 1; ++j) row[j] = nan;
    row[kColumns - 1] = 0;
    return;
  }
  if (pr.clamp_first)
    for (int64_t i = 0; i < n; ++i) p[i] = std::min(std::max(p[i], pr.min_depth), pr.max_depth);
  double ratio = 1.0;
  if (pr.median_scaling) {
    scratch.assign(g, g + n);
    const double mg = numpy_median(scratch);
    scratch.assign(p, p + n);
    ratio = mg / numpy_median(scratch);
  }
  const bool fast_log = pr.min_depth > 0 && ratio > 0 && std::isfinite(ratio);
  const Sums s = fast_log ? accumulate<true>(g, p, n, ratio, pr.min_depth, pr.max_depth, !pr.clamp_first)
                          : accumulate<false>(g, p, n, ratio, pr.min_depth, pr.max_depth, !pr.clamp_first);
  const double dn = static_cast<double>(n);
  row[0] = s.abs_rel / dn;
  row[1] = s.sq_rel / dn;
  row[2] = std::sqrt(s.sq / dn);
  row[3] = std::sqrt(s.sq_log / dn);
  row[4] = s.abs_log / dn / std::log(10.0);
  row[5] = s.a1 / dn;
  row[6] = s.a2 / dn;
  row[7] = s.a3 / dn;
  row[8] = ratio;
  row[9] = dn;
}

// Gathers the valid (gt, pred) pairs of rows [r0, r1) x cols [c0, c1) into g, p (each with room
// for the whole window), in row-major order. Columns go in blocks of 32: the validity test of a
// block is a vectorisable loop producing a bit mask, and only its set bits are visited, so the
// ~95 % invalid pixels of Velodyne ground truth cost a compare each and nothing more.
template <typename T>
S2R_CPU_CLONES int64_t gather_valid(const T* gt, const T* pred, int64_t W, int64_t r0, int64_t r1,
                                    int64_t c0, int64_t c1, T lo, T hi, double* g, double* p) {
  constexpr int kBlock = 32;
  int64_t k = 0;
  for (int64_t y = r0; y < r1; ++y) {
    const T* grow = gt + y * W;
    const T* prow = pred + y * W;
    for (int64_t x0 = c0; x0 < c1; x0 += kBlock) {
      const int n = static_cast<int>(std::min<int64_t>(kBlock, c1 - x0));
      const T* gb = grow + x0;
      uint32_t mask = 0;
      if (n == kBlock) {
        for (int l = 0; l < kBlock; ++l) mask |= static_cast<uint32_t>((gb[l] > lo) & (gb[l] < hi)) << l;
      } else {
        for (int l = 0; l < n; ++l) mask |= static_cast<uint32_t>((gb[l] > lo) & (gb[l] < hi)) << l;
      }
      while (mask) {
        const int l = __builtin_ctz(mask);
        mask &= mask - 1;
        g[k] = static_cast<double>(gb[l]);
        p[k] = static_cast<double>(prow[x0 + l]);
        ++k;
      }
    }
  }
  return k;
}

at::Tensor depth_metrics_cpu(const at::Tensor& pred_in, const at::Tensor& gt_in, double min_depth,
                             double max_depth, bool garg_crop, bool median_scaling, c10::string_view order) {
  check_floating(kOp, "pred", pred_in);
  check_floating(kOp, "gt", gt_in);
  TORCH_CHECK(pred_in.dim() == 3 && pred_in.sizes() == gt_in.sizes(), kOp,
              ": pred and gt must both be N x H x W of one shape, got ", pred_in.sizes(), " and ", gt_in.sizes());
  TORCH_CHECK(pred_in.scalar_type() == gt_in.scalar_type(), kOp, ": pred dtype ", pred_in.scalar_type(),
              " differs from gt dtype ", gt_in.scalar_type());
  TORCH_CHECK(min_depth < max_depth, kOp, ": min_depth ", min_depth, " must be below max_depth ", max_depth);
  TORCH_CHECK(order == "monodepth2" || order == "s2r", kOp, ": order must be 'monodepth2' or 's2r', got '",
              std::string(order), "'");
  const Protocol pr{min_depth, max_depth, median_scaling, order == "s2r"};
  const at::Tensor pred = pred_in.contiguous(), gt = gt_in.contiguous();
  const int64_t N = gt.size(0), H = gt.size(1), W = gt.size(2);
  int64_t r0 = 0, r1 = H, c0 = 0, c1 = W;
  if (garg_crop) {
    r0 = static_cast<int64_t>(kCrop[0] * H);
    r1 = static_cast<int64_t>(kCrop[1] * H);
    c0 = static_cast<int64_t>(kCrop[2] * W);
    c1 = static_cast<int64_t>(kCrop[3] * W);
  }
  at::Tensor out = at::empty({N, kColumns}, gt.options().dtype(at::kDouble));
  double* op = out.data_ptr<double>();
  AT_DISPATCH_FLOATING_TYPES(gt.scalar_type(), "depth_metrics_cpu", [&] {
    const scalar_t* gp = gt.data_ptr<scalar_t>();
    const scalar_t* pp = pred.data_ptr<scalar_t>();
    // Validity is tested in the input dtype, as NumPy / torch compare a float32 array with a
    // Python float.
    const scalar_t lo = static_cast<scalar_t>(min_depth), hi = static_cast<scalar_t>(max_depth);
    const int64_t window = std::max<int64_t>(r1 - r0, 0) * std::max<int64_t>(c1 - c0, 0);
    at::parallel_for(0, N, 1, [&](int64_t begin, int64_t end) {
      std::vector<double> g(window), p(window), scratch;
      for (int64_t i = begin; i < end; ++i) {
        const int64_t n = gather_valid(gp + i * H * W, pp + i * H * W, W, r0, r1, c0, c1, lo, hi,
                                       g.data(), p.data());
        image_metrics(g.data(), p.data(), n, scratch, pr, op + i * kColumns);
      }
    });
  });
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(s2rdepth, CPU, m) {
  m.impl("depth_metrics", &depth_metrics_cpu);
}

}  // namespace cpu
}  // namespace s2rdepth
