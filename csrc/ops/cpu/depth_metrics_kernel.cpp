// CPU kernel of depth_metrics (protocol: csrc/ops/depth_metrics.cpp, REFERENCE.md section 3).
//
// Images are independent tasks. Per image: one sweep over the (cropped) rows gathers the valid
// (gt, pred) pairs into per-thread buffers; medians come from std::nth_element (selection, O(n))
// with NumPy's even-count rule; one more sweep over the gathered pairs accumulates every metric
// in double. Only the ~5 % valid pixels of KITTI ground truth are touched after the first sweep.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "ops/cpu/checks.h"

namespace s2rdepth {
namespace cpu {
namespace {

constexpr const char* kOp = "s2rdepth::depth_metrics";
constexpr int kColumns = 10;  // abs_rel, sq_rel, rmse, rmse_log, log10, a1, a2, a3, scale, valid
// Garg crop fractions (rows, then columns) as in the reference evaluation code.
constexpr double kCrop[4] = {0.40810811, 0.99189189, 0.03594771, 0.96405229};

// NumPy median of v (reordered in place): the middle value, or the mean of the two middle ones.
double numpy_median(std::vector<double>& v) {
  const size_t n = v.size(), k = n / 2;
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

// Metrics of one image from its valid (gt, pred) pairs; row is a kColumns-long output row.
void image_metrics(std::vector<double>& g, std::vector<double>& p, std::vector<double>& scratch,
                   const Protocol& pr, double* row) {
  const size_t n = g.size();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (n == 0) {
    for (int j = 0; j < kColumns - 1; ++j) row[j] = nan;
    row[kColumns - 1] = 0;
    return;
  }
  auto clamp = [&](double v) { return std::min(std::max(v, pr.min_depth), pr.max_depth); };
  if (pr.clamp_first)
    for (double& v : p) v = clamp(v);
  double ratio = 1.0;
  if (pr.median_scaling) {
    scratch.assign(g.begin(), g.end());
    const double mg = numpy_median(scratch);
    scratch.assign(p.begin(), p.end());
    ratio = mg / numpy_median(scratch);
  }
  double abs_rel = 0, sq_rel = 0, sq = 0, sq_log = 0, abs_log10 = 0;
  size_t a1 = 0, a2 = 0, a3 = 0;
  const double inv_ln10 = 1.0 / std::log(10.0);
  for (size_t i = 0; i < n; ++i) {
    double pv = p[i] * ratio;
    if (!pr.clamp_first) pv = clamp(pv);
    const double gv = g[i], diff = gv - pv;
    abs_rel += std::abs(diff) / gv;
    sq_rel += diff * diff / gv;
    sq += diff * diff;
    const double dlog = std::log(gv) - std::log(pv);
    sq_log += dlog * dlog;
    abs_log10 += std::abs(dlog) * inv_ln10;
    const double t = std::max(gv / pv, pv / gv);
    a1 += t < 1.25;
    a2 += t < 1.25 * 1.25;
    a3 += t < 1.25 * 1.25 * 1.25;
  }
  const double dn = static_cast<double>(n);
  row[0] = abs_rel / dn;
  row[1] = sq_rel / dn;
  row[2] = std::sqrt(sq / dn);
  row[3] = std::sqrt(sq_log / dn);
  row[4] = abs_log10 / dn;
  row[5] = a1 / dn;
  row[6] = a2 / dn;
  row[7] = a3 / dn;
  row[8] = ratio;
  row[9] = dn;
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
    at::parallel_for(0, N, 1, [&](int64_t begin, int64_t end) {
      std::vector<double> g, p, scratch;
      for (int64_t i = begin; i < end; ++i) {
        g.clear();
        p.clear();
        for (int64_t y = r0; y < r1; ++y) {
          const scalar_t* grow = gp + (i * H + y) * W;
          const scalar_t* prow = pp + (i * H + y) * W;
          for (int64_t x = c0; x < c1; ++x) {
            const scalar_t gv = grow[x];
            if (gv > lo && gv < hi) {
              g.push_back(static_cast<double>(gv));
              p.push_back(static_cast<double>(prow[x]));
            }
          }
        }
        image_metrics(g, p, scratch, pr, op + i * kColumns);
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
