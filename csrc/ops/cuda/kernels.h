// Host-side interface of the CUDA kernels of s2rdepth.
//
// Plain C++ (no torch header): included by the device code (*_kernel.cu, compiled by nvcc) and by
// the torch glue (*_cuda.cpp, compiled by the host compiler). Every launcher takes raw device
// pointers to contiguous tensors, the sizes, a dtype tag and the stream to launch on; it returns
// the cudaError_t of cudaGetLastError() after its launches (the glue turns it into a TORCH_CHECK).
// Launchers never allocate, never synchronise and never read device memory on the host: scratch
// memory ("workspace") is allocated by the caller (torch's caching allocator), sized by the
// matching *_workspace_bytes() function, which must be called with the same arguments.
#pragma once

#include <cstddef>
#include <cstdint>

#include <cuda_runtime_api.h>

namespace s2rdepth {
namespace cuda {

// Element type of the floating-point tensors. The accumulation ("statistics") type is float for
// kFloat32, kFloat16 and kBFloat16, and double for kFloat64.
enum class DType : int { kFloat32 = 0, kFloat64 = 1, kFloat16 = 2, kBFloat16 = 3 };

// ---------------------------------------------------------------------------------------------
// AdaIN / instance norm (adain_kernel.cu). x is N x C x H x W contiguous, HW = H * W.
//   weight / bias: nullptr, or [C] (nstride 0) or [N, C] (nstride C); element (n, c) is
//   ptr[n * nstride + c]. Same dtype as x.
//   mean / rstd / sum_dy_xhat / sum_dy: N x C of the accumulation type (float or double).
// num_sms: multiprocessor count of the current device (only used to choose the launch shape).

size_t adain_forward_workspace_bytes(DType dtype, int64_t N, int64_t C, int64_t HW, int num_sms);

// out = (x - mean) * rstd * w + b, mean = mean_hw(x), rstd = 1 / sqrt(var_hw(x) + eps) (biased).
cudaError_t adain_forward(DType dtype, const void* x, const void* weight, int64_t weight_nstride,
                          const void* bias, int64_t bias_nstride, void* out, void* mean, void* rstd,
                          int64_t N, int64_t C, int64_t HW, double eps, void* workspace,
                          int num_sms, cudaStream_t stream);

size_t adain_backward_workspace_bytes(DType dtype, int64_t N, int64_t C, int64_t HW, int num_sms);

// sum_dy = sum_hw dy, sum_dy_xhat = sum_hw dy * (x - mean) * rstd and, when grad_x != nullptr,
// grad_x = w * rstd * (dy - sum_dy / HW - xhat * sum_dy_xhat / HW).
cudaError_t adain_backward(DType dtype, const void* grad_out, const void* x, const void* weight,
                           int64_t weight_nstride, const void* mean, const void* rstd,
                           void* grad_x, void* sum_dy_xhat, void* sum_dy, int64_t N, int64_t C,
                           int64_t HW, void* workspace, int num_sms, cudaStream_t stream);

// ---------------------------------------------------------------------------------------------
// Gradient reversal (grad_reverse_kernel.cu): out[i] = -coeff * grad[i] for i < numel.
cudaError_t grad_reverse_backward(DType dtype, const void* grad, void* out, int64_t numel,
                                  double coeff, int num_sms, cudaStream_t stream);

// ---------------------------------------------------------------------------------------------
// Structure loss (structure_loss_kernel.cu). structure N x Cs x H x W, depth N x Cd x H x W,
// same dtype, contiguous. paper = false: g = mean_c(|dx| + |dy|); paper = true: mean_c(|dx + dy|).

size_t structure_loss_workspace_bytes(DType dtype, int64_t N, int64_t H, int64_t W);

// out (0-dim, dtype of structure) = sum |M_s| * exp(-beta * g) / (N * Cs * H * W).
cudaError_t structure_loss_forward(DType dtype, const void* structure, const void* depth, void* out,
                                   int64_t N, int64_t Cs, int64_t Cd, int64_t H, int64_t W,
                                   double beta, bool paper, void* workspace, cudaStream_t stream);

// grad_structure = grad * sign(M_s) * exp(-beta * g) / (N * Cs * H * W); grad points to one
// element of the structure dtype, read on the device.
cudaError_t structure_loss_backward(DType dtype, const void* grad, const void* structure,
                                    const void* depth, void* grad_structure, int64_t N, int64_t Cs,
                                    int64_t Cd, int64_t H, int64_t W, double beta, bool paper,
                                    cudaStream_t stream);

// ---------------------------------------------------------------------------------------------
// Depth metrics (depth_metrics_kernel.cu). pred, gt N x H x W contiguous, dtype kFloat32 or
// kFloat64. Candidate pixels are rows [row0, row1) x cols [col0, col1) (the Garg crop, or the
// whole image); valid where min_depth < gt < max_depth (compared in the input dtype).
// out: N x 10 float64 (abs_rel, sq_rel, rmse, rmse_log, log10, a1, a2, a3, scale, valid).
// s2r_order = false: "monodepth2" (scale, then clamp); true: "s2r" (clamp, then scale).

size_t depth_metrics_workspace_bytes(DType dtype, int64_t N, int64_t H, int64_t W, int64_t row0,
                                     int64_t row1, int64_t col0, int64_t col1);

cudaError_t depth_metrics(DType dtype, const void* pred, const void* gt, double* out, int64_t N,
                          int64_t H, int64_t W, int64_t row0, int64_t row1, int64_t col0,
                          int64_t col1, double min_depth, double max_depth, bool median_scaling,
                          bool s2r_order, void* workspace, cudaStream_t stream);

}  // namespace cuda
}  // namespace s2rdepth
