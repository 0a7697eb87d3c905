// CUDA dispatch of s2rdepth::depth_metrics (kernels in depth_metrics_kernel.cu). Returns the
// float64 N x 10 table on the input's device; no host synchronisation.
#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <c10/util/string_view.h>
#include <torch/library.h>

#include <cstdint>
#include <limits>
#include <string>

#include "cuda_glue.h"
#include "kernels.h"

namespace s2rdepth {
namespace {

using namespace cuda_glue;

// Garg/Eigen crop as fractions of the height and width (rows, then columns); bounds truncated
// to int exactly like the reference's int(fraction * size).
constexpr double kGargRow0 = 0.40810811, kGargRow1 = 0.99189189;
constexpr double kGargCol0 = 0.03594771, kGargCol1 = 0.96405229;
constexpr int kMetricColumns = 10;

at::Tensor depth_metrics_cuda(const at::Tensor& pred_in, const at::Tensor& gt_in, double min_depth,
                              double max_depth, bool garg_crop, bool median_scaling,
                              c10::string_view order) {
  constexpr const char* op = "s2rdepth::depth_metrics";
  bool s2r_order = false;
  if (order == "s2r") {
    s2r_order = true;
  } else {
    TORCH_CHECK(order == "monodepth2", op, ": order must be 'monodepth2' or 's2r', got '",
                std::string(order), "'");
  }
  TORCH_CHECK(min_depth < max_depth, op, ": min_depth ", min_depth, " must be below max_depth ",
              max_depth);
  check_cuda(pred_in, op, "pred");
  check_cuda(gt_in, op, "gt");
  check_same_device(pred_in, gt_in, op, "pred", "gt");
  TORCH_CHECK(gt_in.dim() == 3, op, ": gt must be 3-D (N, H, W), got shape ", gt_in.sizes());
  TORCH_CHECK(pred_in.sizes() == gt_in.sizes(), op, ": pred ", pred_in.sizes(), " and gt ",
              gt_in.sizes(), " must have the same shape");
  TORCH_CHECK(pred_in.scalar_type() == gt_in.scalar_type(), op, ": pred (", pred_in.scalar_type(),
              ") and gt (", gt_in.scalar_type(), ") must have the same dtype");
  const cuda::DType tag = dtype_tag(gt_in, op, "gt", /*allow_half=*/false);
  const int64_t N = gt_in.size(0), H = gt_in.size(1), W = gt_in.size(2);
  // Pixel and tile indices of an image are 32-bit in the kernels.
  TORCH_CHECK(H * W <= (int64_t(1) << 30), op, ": images of more than 2^30 pixels are not supported, got ",
              H, " x ", W);
  c10::cuda::CUDAGuard guard(gt_in.device());
  const at::Tensor pred = pred_in.contiguous();
  const at::Tensor gt = gt_in.contiguous();
  at::Tensor out = at::empty({N, kMetricColumns}, gt.options().dtype(at::kDouble));
  if (N == 0) return out;

  int64_t row0 = 0, row1 = H, col0 = 0, col1 = W;
  if (garg_crop) {
    row0 = static_cast<int64_t>(kGargRow0 * static_cast<double>(H));
    row1 = static_cast<int64_t>(kGargRow1 * static_cast<double>(H));
    col0 = static_cast<int64_t>(kGargCol0 * static_cast<double>(W));
    col1 = static_cast<int64_t>(kGargCol1 * static_cast<double>(W));
  }
  at::Tensor ws = workspace(
      cuda::depth_metrics_workspace_bytes(tag, N, H, W, row0, row1, col0, col1), gt);
  const cudaError_t err = cuda::depth_metrics(
      tag, pred.data_ptr(), gt.data_ptr(), out.data_ptr<double>(), N, H, W, row0, row1, col0,
      col1, min_depth, max_depth, median_scaling, s2r_order, ptr_or_null(ws),
      c10::cuda::getCurrentCUDAStream());
  check_launch(err, op);
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(s2rdepth, CUDA, m) {
  m.impl("depth_metrics", TORCH_FN(depth_metrics_cuda));
}

}  // namespace s2rdepth
