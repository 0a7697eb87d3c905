// CUDA kernels of s2rdepth::structure_loss and s2rdepth::structure_loss_backward.
//
// Math (A = float for float / half / bfloat16, double for double), per pixel (n, y, x):
//   dx_c = D(n,c,y,x) - D(n,c,y,x+1)   (x + 1 replaced by x in the last column: replicate pad)
//   dy_c = D(n,c,y,x) - D(n,c,y+1,x)   (y + 1 replaced by y in the last row)
//   g    = sum_c (|dx_c| + |dy_c|) / Cd      ("reference" mode)
//        = sum_c |dx_c + dy_c| / Cd          ("paper" mode)
//   w    = exp(-beta * g)
//   loss = sum_{n,cs,y,x} |M(n,cs,y,x)| * w(n,y,x) / (N * Cs * H * W)
//   dloss/dM(n,cs,y,x) = (grad / (N * Cs * H * W)) * w(n,y,x) * sign(M)   (sign(0) = 0)
//
// Launch: one thread per pixel (n, y, x), 256-thread blocks, grid-stride; each thread computes w
// from the Cd channels of D (the right / lower neighbours are mostly L1/L2 hits of the adjacent
// threads' loads) and then visits the Cs structure channels. DRAM traffic: one read of
// structure and depth (plus one write of the gradient in the backward).
// Forward reduction is deterministic and does not depend on the GPU: the grid is
// min(ceil(N*H*W / 256), 1024) blocks (a function of the shape only); each block writes its sum
// to the workspace, then a single 256-thread block adds the partials in a fixed order (in
// double) and writes the mean in the dtype of structure. No atomics.
// The backward reads the 0-dim incoming gradient on the device (no host synchronisation).
#include "device_utils.cuh"
#include "kernels.h"

namespace s2rdepth {
namespace cuda {
namespace {

using namespace detail;

constexpr int kThreads = 256;
constexpr int64_t kMaxBlocks = 1024;

__device__ __forceinline__ float exp_acc(float v) { return expf(v); }
__device__ __forceinline__ double exp_acc(double v) { return exp(v); }

// Shape of a launch in the index type I (uint32_t when every index fits, else uint64_t).
template <typename I>
struct Geometry {
  I P;   // pixels N * H * W
  I HW;  // H * W
  I H, W;
  I Cs, Cd;
};

// w = exp(-beta * g) at pixel r = y * W + x of image n; d points to D(n, 0, 0, 0).
template <typename T, bool PAPER, typename I>
__device__ __forceinline__ acc_t<T> edge_weight(const T* __restrict__ d, const Geometry<I>& geo,
                                                I r, I y, I x, acc_t<T> neg_beta) {
  using A = acc_t<T>;
  const I right = x + 1 < geo.W ? I(1) : I(0);  // offset of the right neighbour (0: itself)
  const I below = y + 1 < geo.H ? geo.W : I(0);  // offset of the lower neighbour (0: itself)
  A g = A(0);
  for (I c = 0; c < geo.Cd; ++c) {
    const T* p = d + c * geo.HW + r;
    const A v = to_acc<T>(p[0]);
    const A dx = v - to_acc<T>(p[right]);
    const A dy = v - to_acc<T>(p[below]);
    g += PAPER ? abs_acc(dx + dy) : abs_acc(dx) + abs_acc(dy);
  }
  g = g / static_cast<A>(geo.Cd);
  return exp_acc(neg_beta * g);
}

// Forward: block b writes sum over its pixels of w * sum_cs |M| to partial[b].
template <typename T, bool PAPER, typename I>
__global__ void __launch_bounds__(kThreads)
    structure_loss_fwd_kernel(const T* __restrict__ s, const T* __restrict__ d,
                              acc_t<T>* __restrict__ partial, Geometry<I> geo, acc_t<T> neg_beta) {
  using A = acc_t<T>;
  __shared__ A red[kWarpSize];
  A acc = A(0);
  const I stride = I(gridDim.x) * I(blockDim.x);
  for (I i = I(blockIdx.x) * I(blockDim.x) + I(threadIdx.x); i < geo.P; i += stride) {
    const I n = i / geo.HW;
    const I r = i - n * geo.HW;
    const I y = r / geo.W;
    const I x = r - y * geo.W;
    const A w = edge_weight<T, PAPER, I>(d + n * geo.Cd * geo.HW, geo, r, y, x, neg_beta);
    const T* sp = s + n * geo.Cs * geo.HW + r;
    A m = A(0);
    for (I c = 0; c < geo.Cs; ++c) m += abs_acc(to_acc<T>(sp[c * geo.HW]));
    acc += m * w;
  }
  acc = block_sum(acc, red);
  if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

// Final reduction: one block; lane-strided then butterfly sums in double (fixed order).
template <typename T>
__global__ void __launch_bounds__(kThreads)
    structure_loss_final_kernel(const acc_t<T>* __restrict__ partial, int nblocks, double count,
                                T* __restrict__ out) {
  __shared__ double red[kWarpSize];
  double acc = 0.0;
  for (int b = threadIdx.x; b < nblocks; b += blockDim.x) acc += static_cast<double>(partial[b]);
  acc = block_sum(acc, red);
  if (threadIdx.x == 0) out[0] = from_acc<T>(static_cast<acc_t<T>>(acc / count));
}

// Backward: grad_s(n, cs, y, x) = (grad / count) * w(n, y, x) * sign(M(n, cs, y, x)).
template <typename T, bool PAPER, typename I>
__global__ void __launch_bounds__(kThreads)
    structure_loss_bwd_kernel(const T* __restrict__ grad, const T* __restrict__ s,
                              const T* __restrict__ d, T* __restrict__ gs, Geometry<I> geo,
                              acc_t<T> neg_beta, double count) {
  using A = acc_t<T>;
  const A gscale = to_acc<T>(grad[0]) / static_cast<A>(count);
  const I stride = I(gridDim.x) * I(blockDim.x);
  for (I i = I(blockIdx.x) * I(blockDim.x) + I(threadIdx.x); i < geo.P; i += stride) {
    const I n = i / geo.HW;
    const I r = i - n * geo.HW;
    const I y = r / geo.W;
    const I x = r - y * geo.W;
    const A gw = gscale * edge_weight<T, PAPER, I>(d + n * geo.Cd * geo.HW, geo, r, y, x, neg_beta);
    const I base = n * geo.Cs * geo.HW + r;
    for (I c = 0; c < geo.Cs; ++c) {
      const A m = to_acc<T>(s[base + c * geo.HW]);
      const A sg = m > A(0) ? A(1) : (m < A(0) ? A(-1) : A(0));  // NaN -> 0, like torch.sgn
      gs[base + c * geo.HW] = from_acc<T>(gw * sg);
    }
  }
}

int64_t fwd_blocks(int64_t P) {
  const int64_t b = ceil_div(P, kThreads);
  return b < kMaxBlocks ? (b < 1 ? 1 : b) : kMaxBlocks;
}

// Whether every index of the launch fits 32 bits (element offsets and the grid-stride loop).
bool fits32(int64_t N, int64_t Cs, int64_t Cd, int64_t HW, int64_t blocks) {
  const int64_t C = Cs > Cd ? Cs : Cd;
  const int64_t lim = int64_t(0xffffffffu);
  return N * C * HW + blocks * kThreads < lim;
}

template <typename I>
Geometry<I> geometry(int64_t N, int64_t Cs, int64_t Cd, int64_t H, int64_t W) {
  return Geometry<I>{I(N * H * W), I(H * W), I(H), I(W), I(Cs), I(Cd)};
}

template <typename T, typename I>
void launch_fwd(const T* s, const T* d, acc_t<T>* part, const Geometry<I>& geo, int blocks,
                acc_t<T> nb, bool paper, cudaStream_t stream) {
  if (paper)
    structure_loss_fwd_kernel<T, true, I><<<blocks, kThreads, 0, stream>>>(s, d, part, geo, nb);
  else
    structure_loss_fwd_kernel<T, false, I><<<blocks, kThreads, 0, stream>>>(s, d, part, geo, nb);
}

template <typename T>
cudaError_t fwd_impl(const void* structure, const void* depth, void* out, int64_t N, int64_t Cs,
                     int64_t Cd, int64_t H, int64_t W, double beta, bool paper, void* workspace,
                     cudaStream_t stream) {
  using A = acc_t<T>;
  const T* s = static_cast<const T*>(structure);
  const T* d = static_cast<const T*>(depth);
  T* o = static_cast<T*>(out);
  const int64_t P = N * H * W;
  const double count = static_cast<double>(N * Cs * H * W);
  if (P == 0 || Cs == 0 || Cd == 0) {
    // Degenerate shapes (the Python API rejects them): the mean over no element, or the channel
    // mean of no depth channel, is NaN, as in the reference.
    structure_loss_final_kernel<T><<<1, kThreads, 0, stream>>>(nullptr, 0, 0.0, o);
    return cudaGetLastError();
  }
  const int blocks = static_cast<int>(fwd_blocks(P));
  A* part = static_cast<A*>(workspace);
  const A nb = static_cast<A>(-beta);
  if (fits32(N, Cs, Cd, H * W, blocks))
    launch_fwd<T, uint32_t>(s, d, part, geometry<uint32_t>(N, Cs, Cd, H, W), blocks, nb, paper, stream);
  else
    launch_fwd<T, uint64_t>(s, d, part, geometry<uint64_t>(N, Cs, Cd, H, W), blocks, nb, paper, stream);
  structure_loss_final_kernel<T><<<1, kThreads, 0, stream>>>(part, blocks, count, o);
  return cudaGetLastError();
}

template <typename T, typename I>
void launch_bwd(const T* g, const T* s, const T* d, T* gs, const Geometry<I>& geo, int blocks,
                acc_t<T> nb, double count, bool paper, cudaStream_t stream) {
  if (paper)
    structure_loss_bwd_kernel<T, true, I><<<blocks, kThreads, 0, stream>>>(g, s, d, gs, geo, nb, count);
  else
    structure_loss_bwd_kernel<T, false, I><<<blocks, kThreads, 0, stream>>>(g, s, d, gs, geo, nb, count);
}

template <typename T>
cudaError_t bwd_impl(const void* grad, const void* structure, const void* depth, void* grad_s,
                     int64_t N, int64_t Cs, int64_t Cd, int64_t H, int64_t W, double beta,
                     bool paper, cudaStream_t stream) {
  using A = acc_t<T>;
  const int64_t P = N * H * W;
  if (P == 0 || Cs == 0) return cudaSuccess;  // no element to write
  const T* g = static_cast<const T*>(grad);
  const T* s = static_cast<const T*>(structure);
  const T* d = static_cast<const T*>(depth);
  T* gs = static_cast<T*>(grad_s);
  const double count = static_cast<double>(N * Cs * H * W);
  // Elementwise: enough blocks for every SM (up to 8 * 132 resident), grid-stride beyond.
  int64_t blocks = ceil_div(P, kThreads);
  if (blocks > 4096) blocks = 4096;
  const A nb = static_cast<A>(-beta);
  if (fits32(N, Cs, Cd, H * W, blocks))
    launch_bwd<T, uint32_t>(g, s, d, gs, geometry<uint32_t>(N, Cs, Cd, H, W), int(blocks), nb, count, paper, stream);
  else
    launch_bwd<T, uint64_t>(g, s, d, gs, geometry<uint64_t>(N, Cs, Cd, H, W), int(blocks), nb, count, paper, stream);
  return cudaGetLastError();
}

template <typename T>
size_t workspace_bytes(int64_t N, int64_t H, int64_t W) {
  return static_cast<size_t>(fwd_blocks(N * H * W)) * sizeof(acc_t<T>);
}

}  // namespace

size_t structure_loss_workspace_bytes(DType dtype, int64_t N, int64_t H, int64_t W) {
  switch (dtype) {
    case DType::kFloat32: return workspace_bytes<float>(N, H, W);
    case DType::kFloat64: return workspace_bytes<double>(N, H, W);
    case DType::kFloat16: return workspace_bytes<__half>(N, H, W);
    case DType::kBFloat16: return workspace_bytes<__nv_bfloat16>(N, H, W);
  }
  return 0;
}

cudaError_t structure_loss_forward(DType dtype, const void* structure, const void* depth, void* out,
                                   int64_t N, int64_t Cs, int64_t Cd, int64_t H, int64_t W,
                                   double beta, bool paper, void* workspace, cudaStream_t stream) {
  switch (dtype) {
    case DType::kFloat32:
      return fwd_impl<float>(structure, depth, out, N, Cs, Cd, H, W, beta, paper, workspace, stream);
    case DType::kFloat64:
      return fwd_impl<double>(structure, depth, out, N, Cs, Cd, H, W, beta, paper, workspace, stream);
    case DType::kFloat16:
      return fwd_impl<__half>(structure, depth, out, N, Cs, Cd, H, W, beta, paper, workspace, stream);
    case DType::kBFloat16:
      return fwd_impl<__nv_bfloat16>(structure, depth, out, N, Cs, Cd, H, W, beta, paper, workspace,
                                     stream);
  }
  return cudaErrorInvalidValue;
}

cudaError_t structure_loss_backward(DType dtype, const void* grad, const void* structure,
                                    const void* depth, void* grad_structure, int64_t N, int64_t Cs,
                                    int64_t Cd, int64_t H, int64_t W, double beta, bool paper,
                                    cudaStream_t stream) {
  switch (dtype) {
    case DType::kFloat32:
      return bwd_impl<float>(grad, structure, depth, grad_structure, N, Cs, Cd, H, W, beta, paper,
                             stream);
    case DType::kFloat64:
      return bwd_impl<double>(grad, structure, depth, grad_structure, N, Cs, Cd, H, W, beta, paper,
                              stream);
    case DType::kFloat16:
      return bwd_impl<__half>(grad, structure, depth, grad_structure, N, Cs, Cd, H, W, beta, paper,
                              stream);
    case DType::kBFloat16:
      return bwd_impl<__nv_bfloat16>(grad, structure, depth, grad_structure, N, Cs, Cd, H, W, beta,
                                     paper, stream);
  }
  return cudaErrorInvalidValue;
}

}  // namespace cuda
}  // namespace s2rdepth
