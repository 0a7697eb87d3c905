// CUDA kernels of s2rdepth::adain_forward and s2rdepth::adain_backward (instance norm + affine).
//
// Math (per plane p = (n, c) of HW = H * W elements, statistics in A = float, double for double):
//   forward : mean = sum x / HW, var = sum (x - mean)^2 / HW (biased), rstd = 1 / sqrt(var + eps),
//             y = (x - mean) * (rstd * w_nc) + b_nc
//   backward: sum_dy = sum dy, sum_dy_xhat = rstd * sum dy * (x - mean),
//             dx = w_nc * rstd * (dy - sum_dy / HW - xhat * sum_dy_xhat / HW), xhat = (x - mean) * rstd
//
// Launch design. Two shapes, chosen on the host from the plane count NC = N * C, HW and the SM count:
//  * fused (the usual case; NC >= 2 * SMs or planes of at most 16K elements): one block per plane,
//    32..512 threads. Pass 1 accumulates a per-thread Welford state (forward) or two sums
//    (backward) over 16-byte vector loads, reduced in the block by a fixed butterfly/tree; pass 2
//    writes the output. When the plane fits in R 16-byte packs per thread (R = 8 forward, 4
//    backward: up to 16K floats / 8K floats), pass 1 keeps its packs in registers and pass 2
//    reuses them: DRAM traffic is then exactly one read and one write per element
//    (forward 2 * sizeof(T) bytes / element, backward 3 * sizeof(T)). Larger planes are re-read
//    in pass 2 (from L2 when they fit there; else forward 3 * sizeof(T), backward 5 * sizeof(T)).
//  * split (few, large planes, e.g. 1 x 2 x 375 x 1242): each plane is cut into chunks of at least
//    4K elements so that about 4 * SMs blocks run. Kernel 1 writes one partial state per chunk
//    to the workspace; kernel 2 (one warp per plane) merges the partials of a plane in a fixed
//    order and writes mean / rstd (or the two sums); kernel 3 applies the normalisation (or dx)
//    chunk by chunk. Traffic: forward 3 * sizeof(T) bytes / element (x twice, y once), backward
//    5 * sizeof(T) (dy and x twice, dx once).
// Vector loads: 16 bytes (4 floats, 8 halves, 2 doubles). Each plane / chunk is processed as a
// scalar head up to the first 16-byte boundary, the aligned packs, and a scalar tail, so any HW
// works; when a base pointer is not 16-byte aligned the scalar variant (V = 1, streaming fused or
// split path, no register cache) is used.
// All reductions are deterministic (no atomics): results do not depend on scheduling.
#include <initializer_list>

#include "device_utils.cuh"
#include "kernels.h"

namespace s2rdepth {
namespace cuda {
namespace {

using namespace detail;

constexpr int kMaxThreads = 512;     // threads of a fused block (upper bound)
constexpr int kSplitThreads = 256;   // threads of a split-path block
constexpr int kUnroll = 4;           // packs in flight per thread in the streaming loops
constexpr int kFwdCache = 8;         // packs per thread kept in registers (forward)
constexpr int kBwdCache = 4;         // packs per thread and tensor kept in registers (backward)
constexpr int64_t kSplitMinPlane = 16384;  // planes up to this size are never split
constexpr int64_t kMinChunk = 4096;        // smallest chunk of a split plane

__device__ __forceinline__ float rsqrt_acc(float v) { return rsqrtf(v); }
__device__ __forceinline__ double rsqrt_acc(double v) { return 1.0 / sqrt(v); }

template <typename T, int V>
__device__ __forceinline__ void unpack(const Pack<T, V>& p, acc_t<T> (&a)[V]) {
#pragma unroll
  for (int k = 0; k < V; ++k) a[k] = to_acc<T>(p.v[k]);
}

// Affine parameter of plane (n, c), or dflt when absent.
template <typename T>
__device__ __forceinline__ acc_t<T> affine_at(const T* p, int64_t nstride, int64_t n, int64_t c,
                                              acc_t<T> dflt) {
  return p != nullptr ? to_acc<T>(p[n * nstride + c]) : dflt;
}

// Split of `len` elements at p into [scalar head | nvec packs of V | scalar tail].
struct Segments {
  int64_t head, nvec, tail, ntail;  // tail = index of the first tail element
};

template <typename T, int V>
__device__ __forceinline__ Segments segments(const T* p, int64_t len) {
  Segments s;
  s.head = head_elements<T, V>(p, len);
  s.nvec = (len - s.head) / V;
  s.tail = s.head + s.nvec * V;
  s.ntail = len - s.tail;
  return s;
}

// ------------------------------------------------------------------ streaming range helpers
// Each works on the `len` elements of one plane or chunk, shared by the threads of the block.
// Head and tail have fewer than V <= 8 elements, so threads 0..V-1 take them.

// Per-thread Welford state of the thread's share of x[0, len).
template <typename T, int V>
__device__ __forceinline__ Welford<acc_t<T>> range_welford(const T* __restrict__ x, int64_t len) {
  using A = acc_t<T>;
  const int tid = threadIdx.x, nt = blockDim.x;
  const Segments sg = segments<T, V>(x, len);
  Welford<A> st = welford_init<A>();
  if (tid < sg.head) welford_push(st, to_acc<T>(x[tid]));
  if (tid < sg.ntail) welford_push(st, to_acc<T>(x[sg.tail + tid]));
  const T* xv = x + sg.head;
  for (int64_t i0 = tid; i0 < sg.nvec; i0 += int64_t(kUnroll) * nt) {
    Pack<T, V> p[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t i = i0 + int64_t(u) * nt;
      if (i < sg.nvec) p[u] = load_pack<T, V>(xv + i * V);
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t i = i0 + int64_t(u) * nt;
      if (i < sg.nvec) {
        A a[V];
        unpack<T, V>(p[u], a);
        welford_push_n<A, V>(st, a);
      }
    }
  }
  return st;
}

// y = (x - mean) * scale + shift over [0, len).
template <typename T, int V>
__device__ __forceinline__ void range_normalize(const T* __restrict__ x, T* __restrict__ y,
                                                int64_t len, acc_t<T> mean, acc_t<T> scale,
                                                acc_t<T> shift) {
  const int tid = threadIdx.x, nt = blockDim.x;
  const Segments sg = segments<T, V>(x, len);
  if (tid < sg.head) y[tid] = from_acc<T>((to_acc<T>(x[tid]) - mean) * scale + shift);
  if (tid < sg.ntail) {
    const int64_t i = sg.tail + tid;
    y[i] = from_acc<T>((to_acc<T>(x[i]) - mean) * scale + shift);
  }
  const T* xv = x + sg.head;
  T* yv = y + sg.head;
  for (int64_t i0 = tid; i0 < sg.nvec; i0 += int64_t(kUnroll) * nt) {
    Pack<T, V> p[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t i = i0 + int64_t(u) * nt;
      if (i < sg.nvec) p[u] = load_pack<T, V>(xv + i * V);
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t i = i0 + int64_t(u) * nt;
      if (i < sg.nvec) {
        Pack<T, V> o;
#pragma unroll
        for (int k = 0; k < V; ++k) o.v[k] = from_acc<T>((to_acc<T>(p[u].v[k]) - mean) * scale + shift);
        store_pack<T, V>(yv + i * V, o);
      }
    }
  }
}

// Per-thread sums of dy and dy * (x - mean) over [0, len). Each pack is summed first, then
// added to the running sums (shorter sequential chains than element-by-element).
template <typename T, int V>
__device__ __forceinline__ void range_bwd_sums(const T* __restrict__ dy, const T* __restrict__ x,
                                               int64_t len, acc_t<T> mean, acc_t<T>& s_dy,
                                               acc_t<T>& s_dyxm) {
  using A = acc_t<T>;
  const int tid = threadIdx.x, nt = blockDim.x;
  const Segments sg = segments<T, V>(x, len);
  if (tid < sg.head) {
    const A g = to_acc<T>(dy[tid]);
    s_dy += g;
    s_dyxm += g * (to_acc<T>(x[tid]) - mean);
  }
  if (tid < sg.ntail) {
    const int64_t i = sg.tail + tid;
    const A g = to_acc<T>(dy[i]);
    s_dy += g;
    s_dyxm += g * (to_acc<T>(x[i]) - mean);
  }
  const T* gv = dy + sg.head;
  const T* xv = x + sg.head;
  for (int64_t i0 = tid; i0 < sg.nvec; i0 += int64_t(kUnroll) * nt) {
    Pack<T, V> pg[kUnroll], px[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t i = i0 + int64_t(u) * nt;
      if (i < sg.nvec) {
        pg[u] = load_pack<T, V>(gv + i * V);
        px[u] = load_pack<T, V>(xv + i * V);
      }
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t i = i0 + int64_t(u) * nt;
      if (i < sg.nvec) {
        A a = A(0), b = A(0);
#pragma unroll
        for (int k = 0; k < V; ++k) {
          const A g = to_acc<T>(pg[u].v[k]);
          a += g;
          b += g * (to_acc<T>(px[u].v[k]) - mean);
        }
        s_dy += a;
        s_dyxm += b;
      }
    }
  }
}

// dx = k * (dy - a - xhat * b) with xhat = (x - mean) * rstd, k = w * rstd, a = sum_dy / HW,
// b = sum_dy_xhat / HW.
template <typename T>
__device__ __forceinline__ acc_t<T> dx_value(acc_t<T> g, acc_t<T> xv, acc_t<T> mean, acc_t<T> rstd,
                                             acc_t<T> k, acc_t<T> a, acc_t<T> b) {
  const acc_t<T> xhat = (xv - mean) * rstd;
  return k * (g - a - xhat * b);
}

template <typename T, int V>
__device__ __forceinline__ void range_dx(const T* __restrict__ dy, const T* __restrict__ x,
                                         T* __restrict__ dx, int64_t len, acc_t<T> mean,
                                         acc_t<T> rstd, acc_t<T> k, acc_t<T> a, acc_t<T> b) {
  const int tid = threadIdx.x, nt = blockDim.x;
  const Segments sg = segments<T, V>(x, len);
  if (tid < sg.head)
    dx[tid] = from_acc<T>(dx_value<T>(to_acc<T>(dy[tid]), to_acc<T>(x[tid]), mean, rstd, k, a, b));
  if (tid < sg.ntail) {
    const int64_t i = sg.tail + tid;
    dx[i] = from_acc<T>(dx_value<T>(to_acc<T>(dy[i]), to_acc<T>(x[i]), mean, rstd, k, a, b));
  }
  const T* gv = dy + sg.head;
  const T* xv = x + sg.head;
  T* dv = dx + sg.head;
  for (int64_t i0 = tid; i0 < sg.nvec; i0 += int64_t(kUnroll) * nt) {
    Pack<T, V> pg[kUnroll], px[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t i = i0 + int64_t(u) * nt;
      if (i < sg.nvec) {
        pg[u] = load_pack<T, V>(gv + i * V);
        px[u] = load_pack<T, V>(xv + i * V);
      }
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int64_t i = i0 + int64_t(u) * nt;
      if (i < sg.nvec) {
        Pack<T, V> o;
#pragma unroll
        for (int q = 0; q < V; ++q)
          o.v[q] = from_acc<T>(dx_value<T>(to_acc<T>(pg[u].v[q]), to_acc<T>(px[u].v[q]), mean,
                                              rstd, k, a, b));
        store_pack<T, V>(dv + i * V, o);
      }
    }
  }
}

// ------------------------------------------------------------------------- forward kernels
// Fused: grid = NC blocks (one per plane), blockDim in {32, ..., 512}.
// R > 0: the host guarantees ceil(HW / V) <= R * blockDim, so every pack of the plane is loaded
// once into registers (cache) and reused for the output.
template <typename T, int V, int R>
__global__ void __launch_bounds__(kMaxThreads)
    adain_fwd_fused_kernel(const T* __restrict__ x, const T* __restrict__ weight, int64_t w_ns,
                           const T* __restrict__ bias, int64_t b_ns, T* __restrict__ out,
                           acc_t<T>* __restrict__ mean_out, acc_t<T>* __restrict__ rstd_out,
                           int64_t C, int64_t HW, acc_t<T> eps) {
  using A = acc_t<T>;
  __shared__ Welford<A> red[kWarpSize];
  const int64_t plane = blockIdx.x;
  const int tid = threadIdx.x, nt = blockDim.x;
  const T* xp = x + plane * HW;
  T* yp = out + plane * HW;

  // Pass 1: statistics.
  Welford<A> st;
  Segments sg{};
  A e_head = A(0), e_tail = A(0);
  Pack<T, V> cache[R > 0 ? R : 1];
  if constexpr (R > 0) {
    sg = segments<T, V>(xp, HW);
    st = welford_init<A>();
    if (tid < sg.head) {
      e_head = to_acc<T>(xp[tid]);
      welford_push(st, e_head);
    }
    if (tid < sg.ntail) {
      e_tail = to_acc<T>(xp[sg.tail + tid]);
      welford_push(st, e_tail);
    }
    const T* xv = xp + sg.head;
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const int64_t i = tid + int64_t(r) * nt;
      if (i < sg.nvec) cache[r] = load_pack<T, V>(xv + i * V);
    }
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const int64_t i = tid + int64_t(r) * nt;
      if (i < sg.nvec) {
        A a[V];
        unpack<T, V>(cache[r], a);
        welford_push_n<A, V>(st, a);
      }
    }
  } else {
    st = range_welford<T, V>(xp, HW);
  }
  st = block_welford(st, red);
  const A mean = st.mean;
  A var = st.m2 / A(HW);
  var = var > A(0) ? var : A(0);
  const A rstd = rsqrt_acc(var + eps);
  if (tid == 0) {
    mean_out[plane] = mean;
    rstd_out[plane] = rstd;
  }
  const int64_t n = plane / C, c = plane - n * C;
  const A scale = rstd * affine_at<T>(weight, w_ns, n, c, A(1));
  const A shift = affine_at<T>(bias, b_ns, n, c, A(0));

  // Pass 2: output.
  if constexpr (R > 0) {
    if (tid < sg.head) yp[tid] = from_acc<T>((e_head - mean) * scale + shift);
    if (tid < sg.ntail) yp[sg.tail + tid] = from_acc<T>((e_tail - mean) * scale + shift);
    T* yv = yp + sg.head;
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const int64_t i = tid + int64_t(r) * nt;
      if (i < sg.nvec) {
        Pack<T, V> o;
#pragma unroll
        for (int k = 0; k < V; ++k) o.v[k] = from_acc<T>((to_acc<T>(cache[r].v[k]) - mean) * scale + shift);
        store_pack<T, V>(yv + i * V, o);
      }
    }
  } else {
    range_normalize<T, V>(xp, yp, HW, mean, scale, shift);
  }
}

// Split kernel 1: grid = NC * chunks blocks, block b covers chunk (b % chunks) of plane
// (b / chunks); writes its Welford state to part[b] (3 values: n, mean, m2).
template <typename T, int V>
__global__ void __launch_bounds__(kSplitThreads)
    adain_fwd_partial_kernel(const T* __restrict__ x, acc_t<T>* __restrict__ part, int64_t HW,
                             int64_t chunks, int64_t chunk_len) {
  using A = acc_t<T>;
  __shared__ Welford<A> red[kWarpSize];
  const int64_t b = blockIdx.x;
  const int64_t plane = b / chunks, chunk = b - plane * chunks;
  const int64_t start = chunk * chunk_len;
  const int64_t len = HW - start < chunk_len ? HW - start : chunk_len;
  Welford<A> st = range_welford<T, V>(x + plane * HW + start, len);
  st = block_welford(st, red);
  if (threadIdx.x == 0) {
    part[3 * b + 0] = st.n;
    part[3 * b + 1] = st.mean;
    part[3 * b + 2] = st.m2;
  }
}

// Split kernel 2: one warp per plane (blockDim 256 = 8 planes per block). Lane l merges partials
// l, l + 32, ... in order, then the warp merges the lanes by butterfly: deterministic.
template <typename A>
__global__ void __launch_bounds__(256)
    adain_fwd_finalize_kernel(const A* __restrict__ part, A* __restrict__ mean_out,
                              A* __restrict__ rstd_out, int64_t NC, int64_t chunks, int64_t HW,
                              A eps) {
  const int64_t plane = int64_t(blockIdx.x) * (blockDim.x / kWarpSize) + threadIdx.x / kWarpSize;
  if (plane >= NC) return;  // whole warps exit together
  const int lane = threadIdx.x % kWarpSize;
  Welford<A> st = welford_init<A>();
  for (int64_t j = lane; j < chunks; j += kWarpSize) {
    const A* p = part + 3 * (plane * chunks + j);
    st = welford_merge(st, Welford<A>{p[0], p[1], p[2]});
  }
  st = warp_welford(st);
  if (lane == 0) {
    A var = st.m2 / A(HW);
    var = var > A(0) ? var : A(0);
    mean_out[plane] = st.mean;
    rstd_out[plane] = rsqrt_acc(var + eps);
  }
}

// Split kernel 3: same grid as kernel 1; normalises its chunk.
template <typename T, int V>
__global__ void __launch_bounds__(kSplitThreads)
    adain_fwd_apply_kernel(const T* __restrict__ x, const T* __restrict__ weight, int64_t w_ns,
                           const T* __restrict__ bias, int64_t b_ns, T* __restrict__ out,
                           const acc_t<T>* __restrict__ mean_in,
                           const acc_t<T>* __restrict__ rstd_in, int64_t C, int64_t HW,
                           int64_t chunks, int64_t chunk_len) {
  using A = acc_t<T>;
  const int64_t b = blockIdx.x;
  const int64_t plane = b / chunks, chunk = b - plane * chunks;
  const int64_t start = chunk * chunk_len;
  const int64_t len = HW - start < chunk_len ? HW - start : chunk_len;
  const int64_t n = plane / C, c = plane - n * C;
  const A mean = mean_in[plane];
  const A scale = rstd_in[plane] * affine_at<T>(weight, w_ns, n, c, A(1));
  const A shift = affine_at<T>(bias, b_ns, n, c, A(0));
  const int64_t off = plane * HW + start;
  range_normalize<T, V>(x + off, out + off, len, mean, scale, shift);
}

// ------------------------------------------------------------------------ backward kernels
// Fused: grid = NC blocks, one per plane. R > 0: both dy and x packs of the plane stay in
// registers between the two passes (host guarantees ceil(HW / V) <= R * blockDim).
template <typename T, int V, int R>
__global__ void __launch_bounds__(kMaxThreads)
    adain_bwd_fused_kernel(const T* __restrict__ dy, const T* __restrict__ x,
                           const T* __restrict__ weight, int64_t w_ns,
                           const acc_t<T>* __restrict__ mean_in,
                           const acc_t<T>* __restrict__ rstd_in, T* __restrict__ dx,
                           acc_t<T>* __restrict__ sdxh_out, acc_t<T>* __restrict__ sdy_out,
                           int64_t C, int64_t HW) {
  using A = acc_t<T>;
  __shared__ A red[kWarpSize];
  const int64_t plane = blockIdx.x;
  const int tid = threadIdx.x, nt = blockDim.x;
  const int64_t off = plane * HW;
  const A mean = mean_in[plane];
  const A rstd = rstd_in[plane];

  // Pass 1: sums.
  A s_dy = A(0), s_dyxm = A(0);
  Segments sg{};
  A h_g = A(0), h_x = A(0), t_g = A(0), t_x = A(0);
  Pack<T, V> cg[R > 0 ? R : 1], cx[R > 0 ? R : 1];
  if constexpr (R > 0) {
    sg = segments<T, V>(x + off, HW);
    if (tid < sg.head) {
      h_g = to_acc<T>(dy[off + tid]);
      h_x = to_acc<T>(x[off + tid]);
      s_dy += h_g;
      s_dyxm += h_g * (h_x - mean);
    }
    if (tid < sg.ntail) {
      t_g = to_acc<T>(dy[off + sg.tail + tid]);
      t_x = to_acc<T>(x[off + sg.tail + tid]);
      s_dy += t_g;
      s_dyxm += t_g * (t_x - mean);
    }
    const T* gv = dy + off + sg.head;
    const T* xv = x + off + sg.head;
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const int64_t i = tid + int64_t(r) * nt;
      if (i < sg.nvec) {
        cg[r] = load_pack<T, V>(gv + i * V);
        cx[r] = load_pack<T, V>(xv + i * V);
      }
    }
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const int64_t i = tid + int64_t(r) * nt;
      if (i < sg.nvec) {
        A a = A(0), b = A(0);
#pragma unroll
        for (int k = 0; k < V; ++k) {
          const A g = to_acc<T>(cg[r].v[k]);
          a += g;
          b += g * (to_acc<T>(cx[r].v[k]) - mean);
        }
        s_dy += a;
        s_dyxm += b;
      }
    }
  } else {
    range_bwd_sums<T, V>(dy + off, x + off, HW, mean, s_dy, s_dyxm);
  }
  const A sum_dy = block_sum(s_dy, red);
  const A sum_dy_xhat = block_sum(s_dyxm, red) * rstd;
  if (tid == 0) {
    sdy_out[plane] = sum_dy;
    sdxh_out[plane] = sum_dy_xhat;
  }
  if (dx == nullptr) return;

  // Pass 2: dx.
  const int64_t n = plane / C, c = plane - n * C;
  const A k = affine_at<T>(weight, w_ns, n, c, A(1)) * rstd;
  const A a = sum_dy / A(HW);
  const A b = sum_dy_xhat / A(HW);
  if constexpr (R > 0) {
    if (tid < sg.head) dx[off + tid] = from_acc<T>(dx_value<T>(h_g, h_x, mean, rstd, k, a, b));
    if (tid < sg.ntail)
      dx[off + sg.tail + tid] = from_acc<T>(dx_value<T>(t_g, t_x, mean, rstd, k, a, b));
    T* dv = dx + off + sg.head;
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const int64_t i = tid + int64_t(r) * nt;
      if (i < sg.nvec) {
        Pack<T, V> o;
#pragma unroll
        for (int q = 0; q < V; ++q)
          o.v[q] = from_acc<T>(dx_value<T>(to_acc<T>(cg[r].v[q]), to_acc<T>(cx[r].v[q]), mean,
                                              rstd, k, a, b));
        store_pack<T, V>(dv + i * V, o);
      }
    }
  } else {
    range_dx<T, V>(dy + off, x + off, dx + off, HW, mean, rstd, k, a, b);
  }
}

// Split kernel 1: partial sums (sum dy, sum dy * (x - mean)) of a chunk -> part[2 * b + {0, 1}].
template <typename T, int V>
__global__ void __launch_bounds__(kSplitThreads)
    adain_bwd_partial_kernel(const T* __restrict__ dy, const T* __restrict__ x,
                             const acc_t<T>* __restrict__ mean_in, acc_t<T>* __restrict__ part,
                             int64_t HW, int64_t chunks, int64_t chunk_len) {
  using A = acc_t<T>;
  __shared__ A red[kWarpSize];
  const int64_t b = blockIdx.x;
  const int64_t plane = b / chunks, chunk = b - plane * chunks;
  const int64_t start = chunk * chunk_len;
  const int64_t len = HW - start < chunk_len ? HW - start : chunk_len;
  const int64_t off = plane * HW + start;
  A s_dy = A(0), s_dyxm = A(0);
  range_bwd_sums<T, V>(dy + off, x + off, len, mean_in[plane], s_dy, s_dyxm);
  s_dy = block_sum(s_dy, red);
  s_dyxm = block_sum(s_dyxm, red);
  if (threadIdx.x == 0) {
    part[2 * b + 0] = s_dy;
    part[2 * b + 1] = s_dyxm;
  }
}

// Split kernel 2: one warp per plane sums its partials in a fixed order.
template <typename A>
__global__ void __launch_bounds__(256)
    adain_bwd_finalize_kernel(const A* __restrict__ part, const A* __restrict__ rstd_in,
                              A* __restrict__ sdxh_out, A* __restrict__ sdy_out, int64_t NC,
                              int64_t chunks) {
  const int64_t plane = int64_t(blockIdx.x) * (blockDim.x / kWarpSize) + threadIdx.x / kWarpSize;
  if (plane >= NC) return;
  const int lane = threadIdx.x % kWarpSize;
  A s_dy = A(0), s_dyxm = A(0);
  for (int64_t j = lane; j < chunks; j += kWarpSize) {
    s_dy += part[2 * (plane * chunks + j) + 0];
    s_dyxm += part[2 * (plane * chunks + j) + 1];
  }
  s_dy = warp_sum(s_dy);
  s_dyxm = warp_sum(s_dyxm);
  if (lane == 0) {
    sdy_out[plane] = s_dy;
    sdxh_out[plane] = s_dyxm * rstd_in[plane];
  }
}

// Split kernel 3: dx of a chunk.
template <typename T, int V>
__global__ void __launch_bounds__(kSplitThreads)
    adain_bwd_apply_kernel(const T* __restrict__ dy, const T* __restrict__ x,
                           const T* __restrict__ weight, int64_t w_ns,
                           const acc_t<T>* __restrict__ mean_in,
                           const acc_t<T>* __restrict__ rstd_in,
                           const acc_t<T>* __restrict__ sdxh_in,
                           const acc_t<T>* __restrict__ sdy_in, T* __restrict__ dx, int64_t C,
                           int64_t HW, int64_t chunks, int64_t chunk_len) {
  using A = acc_t<T>;
  const int64_t b = blockIdx.x;
  const int64_t plane = b / chunks, chunk = b - plane * chunks;
  const int64_t start = chunk * chunk_len;
  const int64_t len = HW - start < chunk_len ? HW - start : chunk_len;
  const int64_t n = plane / C, c = plane - n * C;
  const A rstd = rstd_in[plane];
  const A k = affine_at<T>(weight, w_ns, n, c, A(1)) * rstd;
  const A a = sdy_in[plane] / A(HW);
  const A bb = sdxh_in[plane] / A(HW);
  const int64_t off = plane * HW + start;
  range_dx<T, V>(dy + off, x + off, dx + off, len, mean_in[plane], rstd, k, a, bb);
}

// ------------------------------------------------------------------------------ host side
struct Plan {
  bool split;
  int threads;
  int R;              // fused: packs cached per thread (0: streaming)
  int64_t chunks;     // split: chunks per plane
  int64_t chunk_len;  // split: elements per chunk (last one may be shorter)
};

// rcache: packs per thread the fused kernel can cache (kFwdCache or kBwdCache; 0: never cache,
// used for the scalar variant); vec: pack width.
Plan make_plan(int64_t NC, int64_t HW, int vec, int num_sms, int rcache) {
  if (num_sms < 1) num_sms = 1;
  if (NC < 2 * int64_t(num_sms) && HW > kSplitMinPlane) {
    const int64_t want = ceil_div(4 * int64_t(num_sms), NC);
    const int64_t most = ceil_div(HW, kMinChunk);
    int64_t chunks = want < most ? want : most;
    // Chunk length: a multiple of 64 elements (keeps every chunk at the plane's 16-byte phase).
    const int64_t chunk_len = ceil_div(ceil_div(HW, chunks), 64) * 64;
    chunks = ceil_div(HW, chunk_len);
    if (chunks > 1) return Plan{true, kSplitThreads, 0, chunks, chunk_len};
  }
  const int64_t packs = ceil_div(HW, vec);
  if (rcache > 0 && packs <= int64_t(rcache) * kMaxThreads)
    return Plan{false, pow2_at_least(ceil_div(packs, rcache), kWarpSize, kMaxThreads), rcache, 1, HW};
  return Plan{false, pow2_at_least(ceil_div(packs, kUnroll), kWarpSize, kMaxThreads), 0, 1, HW};
}

template <typename T>
int vec_width_for(std::initializer_list<const void*> ptrs) {
  for (const void* p : ptrs)
    if (p != nullptr && !aligned16(p)) return 1;
  return VecWidth<T>::value;
}

template <typename T, int V>
void launch_forward(const Plan& pl, const T* x, const T* w, int64_t w_ns, const T* b, int64_t b_ns,
                    T* y, acc_t<T>* mean, acc_t<T>* rstd, int64_t NC, int64_t C, int64_t HW,
                    acc_t<T> eps, acc_t<T>* part, cudaStream_t stream) {
  if (pl.split) {
    const unsigned blocks = static_cast<unsigned>(NC * pl.chunks);
    adain_fwd_partial_kernel<T, V><<<blocks, pl.threads, 0, stream>>>(x, part, HW, pl.chunks, pl.chunk_len);
    adain_fwd_finalize_kernel<acc_t<T>><<<static_cast<unsigned>(ceil_div(NC, 8)), 256, 0, stream>>>(
        part, mean, rstd, NC, pl.chunks, HW, eps);
    adain_fwd_apply_kernel<T, V><<<blocks, pl.threads, 0, stream>>>(
        x, w, w_ns, b, b_ns, y, mean, rstd, C, HW, pl.chunks, pl.chunk_len);
  } else if (pl.R > 0) {
    if constexpr (V > 1)  // the scalar variant is planned with R = 0 (fewer instantiations)
      adain_fwd_fused_kernel<T, V, kFwdCache><<<static_cast<unsigned>(NC), pl.threads, 0, stream>>>(
          x, w, w_ns, b, b_ns, y, mean, rstd, C, HW, eps);
  } else {
    adain_fwd_fused_kernel<T, V, 0><<<static_cast<unsigned>(NC), pl.threads, 0, stream>>>(
        x, w, w_ns, b, b_ns, y, mean, rstd, C, HW, eps);
  }
}

template <typename T, int V>
void launch_backward(const Plan& pl, const T* dy, const T* x, const T* w, int64_t w_ns,
                     const acc_t<T>* mean, const acc_t<T>* rstd, T* dx, acc_t<T>* sdxh,
                     acc_t<T>* sdy, int64_t NC, int64_t C, int64_t HW, acc_t<T>* part,
                     cudaStream_t stream) {
  if (pl.split) {
    const unsigned blocks = static_cast<unsigned>(NC * pl.chunks);
    adain_bwd_partial_kernel<T, V><<<blocks, pl.threads, 0, stream>>>(dy, x, mean, part, HW, pl.chunks,
                                                                      pl.chunk_len);
    adain_bwd_finalize_kernel<acc_t<T>><<<static_cast<unsigned>(ceil_div(NC, 8)), 256, 0, stream>>>(
        part, rstd, sdxh, sdy, NC, pl.chunks);
    if (dx != nullptr)
      adain_bwd_apply_kernel<T, V><<<blocks, pl.threads, 0, stream>>>(
          dy, x, w, w_ns, mean, rstd, sdxh, sdy, dx, C, HW, pl.chunks, pl.chunk_len);
  } else if (pl.R > 0) {
    if constexpr (V > 1)  // the scalar variant is planned with R = 0
      adain_bwd_fused_kernel<T, V, kBwdCache><<<static_cast<unsigned>(NC), pl.threads, 0, stream>>>(
          dy, x, w, w_ns, mean, rstd, dx, sdxh, sdy, C, HW);
  } else {
    adain_bwd_fused_kernel<T, V, 0><<<static_cast<unsigned>(NC), pl.threads, 0, stream>>>(
        dy, x, w, w_ns, mean, rstd, dx, sdxh, sdy, C, HW);
  }
}

template <typename T>
size_t forward_workspace(int64_t N, int64_t C, int64_t HW, int num_sms) {
  const Plan pl = make_plan(N * C, HW, VecWidth<T>::value, num_sms, kFwdCache);
  return pl.split ? size_t(N * C * pl.chunks) * 3 * sizeof(acc_t<T>) : 0;
}

template <typename T>
size_t backward_workspace(int64_t N, int64_t C, int64_t HW, int num_sms) {
  const Plan pl = make_plan(N * C, HW, VecWidth<T>::value, num_sms, kBwdCache);
  return pl.split ? size_t(N * C * pl.chunks) * 2 * sizeof(acc_t<T>) : 0;
}

template <typename T>
cudaError_t forward_impl(const void* x, const void* weight, int64_t w_ns, const void* bias,
                         int64_t b_ns, void* out, void* mean, void* rstd, int64_t N, int64_t C,
                         int64_t HW, double eps, void* workspace, int num_sms,
                         cudaStream_t stream) {
  using A = acc_t<T>;
  if (N * C == 0 || HW == 0) return cudaSuccess;
  // The plan (split or not, chunking) depends only on the shape, never on the alignment, so the
  // workspace size computed with the vector width always matches.
  const Plan pl = make_plan(N * C, HW, VecWidth<T>::value, num_sms, kFwdCache);
  const int V = vec_width_for<T>({x, out});
  const T* xp = static_cast<const T*>(x);
  const T* wp = static_cast<const T*>(weight);
  const T* bp = static_cast<const T*>(bias);
  T* yp = static_cast<T*>(out);
  A* mp = static_cast<A*>(mean);
  A* rp = static_cast<A*>(rstd);
  A* part = static_cast<A*>(workspace);
  const A e = static_cast<A>(eps);
  if (V == VecWidth<T>::value) {
    launch_forward<T, VecWidth<T>::value>(pl, xp, wp, w_ns, bp, b_ns, yp, mp, rp, N * C, C, HW, e, part, stream);
  } else {
    // Unaligned pointers (rare): scalar variant, streaming fused path (no register cache).
    const Plan ps = pl.split ? pl : make_plan(N * C, HW, 1, num_sms, 0);
    launch_forward<T, 1>(ps, xp, wp, w_ns, bp, b_ns, yp, mp, rp, N * C, C, HW, e, part, stream);
  }
  return cudaGetLastError();
}

template <typename T>
cudaError_t backward_impl(const void* dy, const void* x, const void* weight, int64_t w_ns,
                          const void* mean, const void* rstd, void* dx, void* sdxh, void* sdy,
                          int64_t N, int64_t C, int64_t HW, void* workspace, int num_sms,
                          cudaStream_t stream) {
  using A = acc_t<T>;
  if (N * C == 0) return cudaSuccess;
  if (HW == 0) {
    // Empty planes: both sums are 0 (and dx has no element).
    cudaError_t err = cudaMemsetAsync(sdxh, 0, size_t(N * C) * sizeof(A), stream);
    if (err == cudaSuccess) err = cudaMemsetAsync(sdy, 0, size_t(N * C) * sizeof(A), stream);
    return err;
  }
  const Plan pl = make_plan(N * C, HW, VecWidth<T>::value, num_sms, kBwdCache);
  const int V = vec_width_for<T>({dy, x, dx});
  const T* gp = static_cast<const T*>(dy);
  const T* xp = static_cast<const T*>(x);
  const T* wp = static_cast<const T*>(weight);
  const A* mp = static_cast<const A*>(mean);
  const A* rp = static_cast<const A*>(rstd);
  T* dxp = static_cast<T*>(dx);
  A* s1 = static_cast<A*>(sdxh);
  A* s0 = static_cast<A*>(sdy);
  A* part = static_cast<A*>(workspace);
  if (V == VecWidth<T>::value) {
    launch_backward<T, VecWidth<T>::value>(pl, gp, xp, wp, w_ns, mp, rp, dxp, s1, s0, N * C, C, HW, part, stream);
  } else {
    const Plan ps = pl.split ? pl : make_plan(N * C, HW, 1, num_sms, 0);
    launch_backward<T, 1>(ps, gp, xp, wp, w_ns, mp, rp, dxp, s1, s0, N * C, C, HW, part, stream);
  }
  return cudaGetLastError();
}

}  // namespace

// ------------------------------------------------------------------- public launchers
size_t adain_forward_workspace_bytes(DType dtype, int64_t N, int64_t C, int64_t HW, int num_sms) {
  switch (dtype) {
    case DType::kFloat32: return forward_workspace<float>(N, C, HW, num_sms);
    case DType::kFloat64: return forward_workspace<double>(N, C, HW, num_sms);
    case DType::kFloat16: return forward_workspace<__half>(N, C, HW, num_sms);
    case DType::kBFloat16: return forward_workspace<__nv_bfloat16>(N, C, HW, num_sms);
  }
  return 0;
}

cudaError_t adain_forward(DType dtype, const void* x, const void* weight, int64_t weight_nstride,
                          const void* bias, int64_t bias_nstride, void* out, void* mean, void* rstd,
                          int64_t N, int64_t C, int64_t HW, double eps, void* workspace,
                          int num_sms, cudaStream_t stream) {
  switch (dtype) {
    case DType::kFloat32:
      return forward_impl<float>(x, weight, weight_nstride, bias, bias_nstride, out, mean, rstd, N,
                                 C, HW, eps, workspace, num_sms, stream);
    case DType::kFloat64:
      return forward_impl<double>(x, weight, weight_nstride, bias, bias_nstride, out, mean, rstd, N,
                                  C, HW, eps, workspace, num_sms, stream);
    case DType::kFloat16:
      return forward_impl<__half>(x, weight, weight_nstride, bias, bias_nstride, out, mean, rstd, N,
                                  C, HW, eps, workspace, num_sms, stream);
    case DType::kBFloat16:
      return forward_impl<__nv_bfloat16>(x, weight, weight_nstride, bias, bias_nstride, out, mean,
                                         rstd, N, C, HW, eps, workspace, num_sms, stream);
  }
  return cudaErrorInvalidValue;
}

size_t adain_backward_workspace_bytes(DType dtype, int64_t N, int64_t C, int64_t HW, int num_sms) {
  switch (dtype) {
    case DType::kFloat32: return backward_workspace<float>(N, C, HW, num_sms);
    case DType::kFloat64: return backward_workspace<double>(N, C, HW, num_sms);
    case DType::kFloat16: return backward_workspace<__half>(N, C, HW, num_sms);
    case DType::kBFloat16: return backward_workspace<__nv_bfloat16>(N, C, HW, num_sms);
  }
  return 0;
}

cudaError_t adain_backward(DType dtype, const void* grad_out, const void* x, const void* weight,
                           int64_t weight_nstride, const void* mean, const void* rstd,
                           void* grad_x, void* sum_dy_xhat, void* sum_dy, int64_t N, int64_t C,
                           int64_t HW, void* workspace, int num_sms, cudaStream_t stream) {
  switch (dtype) {
    case DType::kFloat32:
      return backward_impl<float>(grad_out, x, weight, weight_nstride, mean, rstd, grad_x,
                                  sum_dy_xhat, sum_dy, N, C, HW, workspace, num_sms, stream);
    case DType::kFloat64:
      return backward_impl<double>(grad_out, x, weight, weight_nstride, mean, rstd, grad_x,
                                   sum_dy_xhat, sum_dy, N, C, HW, workspace, num_sms, stream);
    case DType::kFloat16:
      return backward_impl<__half>(grad_out, x, weight, weight_nstride, mean, rstd, grad_x,
                                   sum_dy_xhat, sum_dy, N, C, HW, workspace, num_sms, stream);
    case DType::kBFloat16:
      return backward_impl<__nv_bfloat16>(grad_out, x, weight, weight_nstride, mean, rstd, grad_x,
                                          sum_dy_xhat, sum_dy, N, C, HW, workspace, num_sms, stream);
  }
  return cudaErrorInvalidValue;
}

}  // namespace cuda
}  // namespace s2rdepth
