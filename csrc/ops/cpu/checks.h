// Argument checks shared by the CPU kernels (the CUDA glue has its own): every failure names
// the op and the argument.
#pragma once

#include <ATen/ATen.h>

#include <optional>

namespace s2rdepth {
namespace cpu {

inline void check_floating(const char* op, const char* name, const at::Tensor& t) {
  TORCH_CHECK(t.defined(), op, ": ", name, " is undefined");
  TORCH_CHECK(at::isFloatingType(t.scalar_type()), op, ": ", name,
              " must have a floating dtype, got ", t.scalar_type());
  TORCH_CHECK(t.device().is_cpu(), op, ": ", name, " must be a CPU tensor, got ", t.device());
}

// An optional affine parameter of adain: [C] or [N, C], dtype of x.
inline void check_affine(const char* op, const char* name, const std::optional<at::Tensor>& t,
                         const at::Tensor& x) {
  if (!t.has_value() || !t->defined()) return;
  check_floating(op, name, *t);
  const int64_t n = x.size(0), c = x.size(1);
  const bool per_channel = t->dim() == 1 && t->size(0) == c;
  const bool per_sample = t->dim() == 2 && t->size(0) == n && t->size(1) == c;
  TORCH_CHECK(per_channel || per_sample, op, ": ", name, " must have shape [C] or [N, C] = [", n,
              ", ", c, "], got ", t->sizes());
  TORCH_CHECK(t->scalar_type() == x.scalar_type(), op, ": ", name, " dtype ", t->scalar_type(),
              " differs from x dtype ", x.scalar_type());
}

}  // namespace cpu
}  // namespace s2rdepth
