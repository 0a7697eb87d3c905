// CUDA dispatch of s2rdepth::structure_loss and s2rdepth::structure_loss_backward (kernels in
// structure_loss_kernel.cu). The loss is a 0-dim tensor of structure's dtype; the backward reads
// the incoming 0-dim gradient on the device (no host synchronisation).
#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <c10/util/string_view.h>
#include <torch/library.h>

#include <cmath>
#include <string>
#include <utility>

#include "cuda_glue.h"
#include "kernels.h"

namespace s2rdepth {
namespace {

using namespace cuda_glue;

bool paper_mode(c10::string_view mode, const char* op) {
  if (mode == "reference") return false;
  if (mode == "paper") return true;
  TORCH_CHECK(false, op, ": mode must be 'reference' or 'paper', got '", std::string(mode), "'");
  return false;
}

// Checks structure / depth (as the CPU kernels do) and returns them contiguous.
std::pair<at::Tensor, at::Tensor> prepare(const at::Tensor& structure, const at::Tensor& depth,
                                          double beta, const char* op) {
  check_cuda(structure, op, "structure");
  check_cuda(depth, op, "depth");
  check_same_device(depth, structure, op, "depth", "structure");
  TORCH_CHECK(structure.dim() == 4, op, ": structure must be 4-D (N, Cs, H, W), got shape ",
              structure.sizes());
  TORCH_CHECK(depth.dim() == 4, op, ": depth must be 4-D (N, Cd, H, W), got shape ", depth.sizes());
  TORCH_CHECK(structure.size(0) == depth.size(0) && structure.size(2) == depth.size(2) &&
                  structure.size(3) == depth.size(3),
              op, ": structure ", structure.sizes(), " and depth ", depth.sizes(),
              " must agree in N, H and W");
  TORCH_CHECK(structure.numel() > 0 && depth.numel() > 0, op, ": structure ", structure.sizes(),
              " or depth ", depth.sizes(), " is empty");
  TORCH_CHECK(depth.scalar_type() == structure.scalar_type(), op, ": structure dtype ",
              structure.scalar_type(), " differs from depth dtype ", depth.scalar_type());
  TORCH_CHECK(std::isfinite(beta) && beta >= 0, op, ": beta must be finite and >= 0, got ", beta);
  return {structure.contiguous(), depth.contiguous()};
}

at::Tensor structure_loss_cuda(const at::Tensor& structure_in, const at::Tensor& depth_in,
                               double beta, c10::string_view mode) {
  constexpr const char* op = "s2rdepth::structure_loss";
  const bool paper = paper_mode(mode, op);
  check_cuda(structure_in, op, "structure");
  const cuda::DType tag = dtype_tag(structure_in, op, "structure");
  c10::cuda::CUDAGuard guard(structure_in.device());
  const auto [s, d] = prepare(structure_in, depth_in, beta, op);
  const int64_t N = s.size(0), Cs = s.size(1), Cd = d.size(1), H = s.size(2), W = s.size(3);
  at::Tensor out = at::empty({}, s.options());
  at::Tensor ws = workspace(cuda::structure_loss_workspace_bytes(tag, N, H, W), s);
  const cudaError_t err =
      cuda::structure_loss_forward(tag, s.data_ptr(), d.data_ptr(), out.data_ptr(), N, Cs, Cd, H, W,
                                   beta, paper, ptr_or_null(ws), c10::cuda::getCurrentCUDAStream());
  check_launch(err, op);
  return out;
}

at::Tensor structure_loss_backward_cuda(const at::Tensor& grad_in, const at::Tensor& structure_in,
                                        const at::Tensor& depth_in, double beta,
                                        c10::string_view mode) {
  constexpr const char* op = "s2rdepth::structure_loss_backward";
  const bool paper = paper_mode(mode, op);
  check_cuda(structure_in, op, "structure");
  const cuda::DType tag = dtype_tag(structure_in, op, "structure");
  TORCH_CHECK(grad_in.defined() && grad_in.is_floating_point(), op,
              ": grad must be a floating tensor");
  TORCH_CHECK(grad_in.numel() == 1, op,
              ": grad must hold one element (the gradient of the 0-dim loss), got shape ",
              grad_in.defined() ? grad_in.sizes() : at::IntArrayRef{});
  c10::cuda::CUDAGuard guard(structure_in.device());
  const auto [s, d] = prepare(structure_in, depth_in, beta, op);
  // One element in structure's dtype on structure's device (a no-op for the usual CUDA grad).
  const at::Tensor g = grad_in.reshape({}).to(s.device(), s.scalar_type()).contiguous();
  const int64_t N = s.size(0), Cs = s.size(1), Cd = d.size(1), H = s.size(2), W = s.size(3);
  at::Tensor out = at::empty(s.sizes(), s.options());
  if (out.numel() == 0) return out;
  const cudaError_t err = cuda::structure_loss_backward(
      tag, g.data_ptr(), s.data_ptr(), d.data_ptr(), out.data_ptr(), N, Cs, Cd, H, W, beta, paper,
      c10::cuda::getCurrentCUDAStream());
  check_launch(err, op);
  return out;
}

}  // namespace

TORCH_LIBRARY_IMPL(s2rdepth, CUDA, m) {
  m.impl("structure_loss", TORCH_FN(structure_loss_cuda));
  m.impl("structure_loss_backward", TORCH_FN(structure_loss_backward_cuda));
}

}  // namespace s2rdepth
