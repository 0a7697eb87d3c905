// Schema of the batched monocular depth metrics (KITTI / NYU protocols, REFERENCE.md section 3).
//   depth_metrics(pred [N, H, W] metres, gt [N, H, W] metres) -> float64 [N, 10] with columns
//     abs_rel, sq_rel, rmse, rmse_log, log10, a1, a2, a3, scale, valid
//   valid pixels: min_depth < gt < max_depth, inside the Garg crop when garg_crop.
//   order "monodepth2": pred *= median(gt) / median(pred) then clamp to [min_depth, max_depth];
//   order "s2r"       : clamp first, then scale (no clamp after).
//   Medians are NumPy's (mean of the two middle values for an even count), over valid pixels.
//   An image with no valid pixel gets NaN metrics, scale NaN and valid 0.
#include <torch/library.h>

TORCH_LIBRARY_FRAGMENT(s2rdepth, m) {
  m.def(
      "depth_metrics(Tensor pred, Tensor gt, float min_depth=0.001, float max_depth=80.0, "
      "bool garg_crop=True, bool median_scaling=True, str order=\"monodepth2\") -> Tensor");
}

#include <ATen/core/dispatch/Dispatcher.h>

#include "ops/ops.h"

namespace s2rdepth {
namespace ops {

at::Tensor depth_metrics(const at::Tensor& pred, const at::Tensor& gt, double min_depth,
                         double max_depth, bool garg_crop, bool median_scaling,
                         c10::string_view order) {
  static auto op = c10::Dispatcher::singleton()
                       .findSchemaOrThrow("s2rdepth::depth_metrics", "")
                       .typed<decltype(depth_metrics)>();
  return op.call(pred, gt, min_depth, max_depth, garg_crop, median_scaling, order);
}

// Kernels that autograd never differentiates through: the Autograd key falls through to them.
TORCH_LIBRARY_IMPL(s2rdepth, Autograd, m) {
  m.impl("depth_metrics", torch::CppFunction::makeFallthrough());
}

}  // namespace ops
}  // namespace s2rdepth
