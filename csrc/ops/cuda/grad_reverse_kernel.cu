// CUDA kernel of s2rdepth::grad_reverse_backward: out = -coeff * grad, elementwise.
//
// Computed in the accumulation type (float for float / half / bfloat16, double for double) and
// rounded once to the element type: out = from_acc(to_acc(grad) * (acc)(-coeff)).
//
// Launch: 256-thread blocks, grid-stride over 16-byte packs (4 floats, 8 halves, 2 doubles), at
// most 8 blocks per SM; the n % V trailing elements are written by the first threads of block 0.
// When grad or out is not 16-byte aligned the scalar variant (V = 1) runs.
// Memory traffic: one read and one write per element (2 * sizeof(T) bytes / element).
#include "device_utils.cuh"
#include "kernels.h"

namespace s2rdepth {
namespace cuda {
namespace {

using namespace detail;

constexpr int kThreads = 256;

template <typename T, int V>
__global__ void __launch_bounds__(kThreads)
    grad_reverse_kernel(const T* __restrict__ in, T* __restrict__ out, int64_t n,
                        acc_t<T> neg_coeff) {
  const int64_t packs = n / V;
  const int64_t stride = int64_t(gridDim.x) * blockDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < packs; i += stride) {
    const Pack<T, V> p = load_pack<T, V>(in + i * V);
    Pack<T, V> o;
#pragma unroll
    for (int k = 0; k < V; ++k) o.v[k] = from_acc<T>(to_acc<T>(p.v[k]) * neg_coeff);
    store_pack<T, V>(out + i * V, o);
  }
  if (blockIdx.x == 0) {
    const int64_t i = packs * V + threadIdx.x;  // fewer than V <= 8 trailing elements
    if (i < n) out[i] = from_acc<T>(to_acc<T>(in[i]) * neg_coeff);
  }
}

template <typename T, int V>
void launch(const T* in, T* out, int64_t n, double coeff, int num_sms, cudaStream_t stream) {
  const int64_t packs = n / V;
  int64_t blocks = ceil_div(packs, kThreads);
  const int64_t most = 8 * int64_t(num_sms > 0 ? num_sms : 1);
  if (blocks > most) blocks = most;
  if (blocks < 1) blocks = 1;
  grad_reverse_kernel<T, V><<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(
      in, out, n, static_cast<acc_t<T>>(-coeff));
}

template <typename T>
cudaError_t impl(const void* grad, void* out, int64_t n, double coeff, int num_sms,
                 cudaStream_t stream) {
  if (n <= 0) return cudaSuccess;
  const T* in = static_cast<const T*>(grad);
  T* o = static_cast<T*>(out);
  if (aligned16(grad) && aligned16(out))
    launch<T, VecWidth<T>::value>(in, o, n, coeff, num_sms, stream);
  else
    launch<T, 1>(in, o, n, coeff, num_sms, stream);
  return cudaGetLastError();
}

}  // namespace

cudaError_t grad_reverse_backward(DType dtype, const void* grad, void* out, int64_t numel,
                                  double coeff, int num_sms, cudaStream_t stream) {
  switch (dtype) {
    case DType::kFloat32: return impl<float>(grad, out, numel, coeff, num_sms, stream);
    case DType::kFloat64: return impl<double>(grad, out, numel, coeff, num_sms, stream);
    case DType::kFloat16: return impl<__half>(grad, out, numel, coeff, num_sms, stream);
    case DType::kBFloat16: return impl<__nv_bfloat16>(grad, out, numel, coeff, num_sms, stream);
  }
  return cudaErrorInvalidValue;
}

}  // namespace cuda
}  // namespace s2rdepth
