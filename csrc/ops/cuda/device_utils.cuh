// Device helpers shared by the s2rdepth CUDA kernels (torch-free; CUDA toolkit headers only).
//
//  * Traits<T>: accumulation type of each element type and the conversions to / from it
//    (half and bfloat16 load as float and store with round-to-nearest-even).
//  * Pack<T, V>: V elements loaded / stored as one 16-byte transaction (V = 16 / sizeof(T)), or a
//    single element (V = 1) when a pointer is not 16-byte aligned.
//  * Deterministic warp and block reductions (fixed butterfly / tree shapes, no atomics).
//  * Welford<A>: running (count, mean, M2) with Chan et al.'s pairwise merge.
#pragma once

#include <cstdint>

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include "kernels.h"

namespace s2rdepth {
namespace cuda {
namespace detail {

constexpr unsigned kFullMask = 0xffffffffu;
constexpr int kWarpSize = 32;

// ------------------------------------------------------------------------------ dtype traits
template <typename T>
struct Traits;

template <>
struct Traits<float> {
  using acc_t = float;
  static __device__ __forceinline__ float to_acc(float v) { return v; }
  static __device__ __forceinline__ float from_acc(float v) { return v; }
};

template <>
struct Traits<double> {
  using acc_t = double;
  static __device__ __forceinline__ double to_acc(double v) { return v; }
  static __device__ __forceinline__ double from_acc(double v) { return v; }
};

template <>
struct Traits<__half> {
  using acc_t = float;
  static __device__ __forceinline__ float to_acc(__half v) { return __half2float(v); }
  static __device__ __forceinline__ __half from_acc(float v) { return __float2half_rn(v); }
};

template <>
struct Traits<__nv_bfloat16> {
  using acc_t = float;
  static __device__ __forceinline__ float to_acc(__nv_bfloat16 v) { return __bfloat162float(v); }
  // __float2bfloat16 rounds to nearest even (software path below sm_80).
  static __device__ __forceinline__ __nv_bfloat16 from_acc(float v) { return __float2bfloat16(v); }
};

template <typename T>
using acc_t = typename Traits<T>::acc_t;

template <typename T>
__device__ __forceinline__ acc_t<T> to_acc(T v) {
  return Traits<T>::to_acc(v);
}
template <typename T>
__device__ __forceinline__ T from_acc(acc_t<T> v) {
  return Traits<T>::from_acc(v);
}

__device__ __forceinline__ float abs_acc(float v) { return fabsf(v); }
__device__ __forceinline__ double abs_acc(double v) { return fabs(v); }

// ------------------------------------------------------------------------- vectorised access
constexpr int kVecBytes = 16;

template <typename T>
struct VecWidth {
  static constexpr int value = kVecBytes / static_cast<int>(sizeof(T));
};

template <typename T, int V>
struct alignas(sizeof(T) * V) Pack {
  T v[V];
};

// 16-byte packs move through uint4 so that the compiler emits one 128-bit load / store: a plain
// struct copy (or even a uint4 assignment) may be split into narrower stores, so the store goes
// through __stwb (st.global.wb.v4: the ordinary write-back store, as an intrinsic) and the load
// through __ldg (ld.global.nc.v4: every tensor read by a kernel is read-only during it).
template <typename T, int V>
__device__ __forceinline__ Pack<T, V> load_pack(const T* p) {
  if constexpr (sizeof(Pack<T, V>) == sizeof(uint4)) {
    const uint4 u = __ldg(reinterpret_cast<const uint4*>(p));  // inputs are read-only in a kernel
    Pack<T, V> v;
    memcpy(&v, &u, sizeof(uint4));
    return v;
  } else {
    return *reinterpret_cast<const Pack<T, V>*>(p);
  }
}

template <typename T, int V>
__device__ __forceinline__ void store_pack(T* p, const Pack<T, V>& v) {
  if constexpr (sizeof(Pack<T, V>) == sizeof(uint4)) {
    uint4 u;
    memcpy(&u, &v, sizeof(uint4));
    __stwb(reinterpret_cast<uint4*>(p), u);
  } else {
    *reinterpret_cast<Pack<T, V>*>(p) = v;
  }
}

// Number of leading elements of the n elements at p that come before the first 16-byte boundary
// (0 for the scalar variant V == 1). p must be aligned to sizeof(T), which torch guarantees.
template <typename T, int V>
__device__ __forceinline__ int64_t head_elements(const T* p, int64_t n) {
  if (V == 1) return 0;
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  const int64_t h = static_cast<int64_t>(((kVecBytes - (a & (kVecBytes - 1))) & (kVecBytes - 1)) / sizeof(T));
  return h < n ? h : n;
}

// Host side: whether a pointer allows the 16-byte vector path.
inline bool aligned16(const void* p) {
  return (reinterpret_cast<uintptr_t>(p) & (kVecBytes - 1)) == 0;
}

// ------------------------------------------------------------------------ warp / block sums
template <typename A>
__device__ __forceinline__ A warp_sum(A v) {
#pragma unroll
  for (int off = kWarpSize / 2; off > 0; off >>= 1) v += __shfl_xor_sync(kFullMask, v, off);
  return v;
}

// Sum of v over the block (blockDim.x a multiple of 32, at most 1024), returned to every thread.
// smem: at least 32 elements. Deterministic: fixed butterfly in each warp, then warp 0 sums the
// warp totals with the same butterfly. Contains __syncthreads(): call from all threads.
template <typename A>
__device__ __forceinline__ A block_sum(A v, A* smem) {
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
  const int nwarps = blockDim.x / kWarpSize;
  v = warp_sum(v);
  __syncthreads();  // smem may still be read by a previous reduction
  if (lane == 0) smem[warp] = v;
  __syncthreads();
  if (warp == 0) {
    A t = lane < nwarps ? smem[lane] : A(0);
    t = warp_sum(t);
    if (lane == 0) smem[0] = t;
  }
  __syncthreads();
  return smem[0];
}

// ------------------------------------------------------------------------------- Welford
// Running statistics of a set of values: count n, mean and M2 = sum (v - mean)^2.
template <typename A>
struct Welford {
  A n, mean, m2;
};

template <typename A>
__device__ __forceinline__ Welford<A> welford_init() {
  return Welford<A>{A(0), A(0), A(0)};
}

// Chan, Golub & LeVeque pairwise update: merge b into a.
template <typename A>
__device__ __forceinline__ Welford<A> welford_merge(const Welford<A>& a, const Welford<A>& b) {
  if (b.n == A(0)) return a;
  if (a.n == A(0)) return b;
  const A n = a.n + b.n;
  const A wb = b.n / n;
  const A delta = b.mean - a.mean;
  return Welford<A>{n, a.mean + delta * wb, a.m2 + b.m2 + delta * delta * a.n * wb};
}

// Add one value.
template <typename A>
__device__ __forceinline__ void welford_push(Welford<A>& s, A v) {
  s.n += A(1);
  const A delta = v - s.mean;
  s.mean += delta / s.n;
  s.m2 += delta * (v - s.mean);
}

// Add V values at once: exact two-pass statistics of the V values in registers, then one merge.
template <typename A, int V>
__device__ __forceinline__ void welford_push_n(Welford<A>& s, const A (&v)[V]) {
  if (V == 1) {
    welford_push(s, v[0]);
    return;
  }
  A sum = A(0);
#pragma unroll
  for (int i = 0; i < V; ++i) sum += v[i];
  const A m = sum * (A(1) / A(V));
  A m2 = A(0);
#pragma unroll
  for (int i = 0; i < V; ++i) m2 += (v[i] - m) * (v[i] - m);
  s = welford_merge(s, Welford<A>{A(V), m, m2});
}

template <typename A>
__device__ __forceinline__ Welford<A> welford_shfl_xor(const Welford<A>& s, int off) {
  return Welford<A>{__shfl_xor_sync(kFullMask, s.n, off), __shfl_xor_sync(kFullMask, s.mean, off),
                    __shfl_xor_sync(kFullMask, s.m2, off)};
}

template <typename A>
__device__ __forceinline__ Welford<A> warp_welford(Welford<A> s) {
#pragma unroll
  for (int off = kWarpSize / 2; off > 0; off >>= 1) s = welford_merge(s, welford_shfl_xor(s, off));
  return s;
}

// Block-wide merge (same shape as block_sum), result returned to every thread.
// smem: at least 32 entries.
template <typename A>
__device__ __forceinline__ Welford<A> block_welford(Welford<A> s, Welford<A>* smem) {
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
  const int nwarps = blockDim.x / kWarpSize;
  s = warp_welford(s);
  __syncthreads();
  if (lane == 0) smem[warp] = s;
  __syncthreads();
  if (warp == 0) {
    Welford<A> t = lane < nwarps ? smem[lane] : welford_init<A>();
    t = warp_welford(t);
    if (lane == 0) smem[0] = t;
  }
  __syncthreads();
  return smem[0];
}

// Launch-size helpers (host).
inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

inline int pow2_at_least(int64_t v, int lo, int hi) {
  int p = lo;
  while (p < hi && p < v) p *= 2;
  return p;
}

// Workspace carving (host): bump allocator with 256-byte alignment over one scratch buffer.
struct Carver {
  char* base;
  size_t used;
  template <typename U>
  U* take(size_t count) {
    used = (used + 255) & ~static_cast<size_t>(255);
    U* p = base ? reinterpret_cast<U*>(base + used) : nullptr;
    used += count * sizeof(U);
    return p;
  }
};

}  // namespace detail
}  // namespace cuda
}  // namespace s2rdepth
