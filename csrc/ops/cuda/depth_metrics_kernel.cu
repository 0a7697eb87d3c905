// CUDA kernels of s2rdepth::depth_metrics (batched KITTI / NYU depth metrics).
//
// Per image n (pred P, ground truth G, both N x H x W, T = float or double):
//   candidates: rows [row0, row1) x cols [col0, col1) (Garg crop or the whole image), in row-major
//               order; valid where min_depth < G < max_depth, compared in T (as the reference
//               compares a T tensor with Python floats).
//   medians   : NumPy semantics over the valid pixels (mean of the two middle values for an even
//               count), computed in double from the T values; pred's median uses the clamped
//               values in "s2r" order (clamp is monotone, so median(clamp(p)) is taken as
//               clamp applied to the selected order statistics).
//   ratio     : median(G) / median(P) with median scaling, else 1.
//   p (double): monodepth2: clamp(p * ratio, min, max); s2r: clamp(p, min, max) * ratio.
//   metrics   : means over valid pixels (in double) of |g-p|/g, (g-p)^2/g, (g-p)^2 (-> sqrt),
//               (ln g - ln p)^2 (-> sqrt), |log10 g - log10 p|, max(g/p, p/g) < 1.25^k;
//               scale = ratio, valid = count; no valid pixel: all NaN, valid = 0.
//
// Kernels (all on the caller's stream, no host synchronisation), candidates tiled in blocks of
// kTile = 4096 pixels (256 threads x 16):
//  1. count    grid N * tiles : valid pixels per tile (reads G: sizeof(T) B / candidate pixel).
//  2. scatter  grid N * tiles : stable compaction of the valid (G, P) pairs into per-image scratch
//              arrays (order = row-major pixel order): a block's offset is the sum of the counts of
//              the image's earlier tiles, ranks within a tile come from warp ballots. Reads G
//              again and P only at valid pixels; the last tile writes the image's valid count.
//  3. select   grid 2 * N, 1024 threads (median scaling only): one block per (image, G or P)
//              radix-selects rank c/2 (and c/2 - 1 for even c) from the compacted values:
//              11-bit digits of an order-preserving unsigned key (3 passes for float, 6 for
//              double), shared-memory histograms with warp-aggregated (__match_any_sync) integer
//              atomics, then an exclusive scan to find the digit holding the rank. No sort.
//              Key: sign-flipped IEEE bits (negative values reversed), -0 mapped to +0, every NaN
//              mapped to the largest key (NaN sorts last, like torch.sort).
//  4. metrics  grid N * tiles : per-tile sums of the 8 metric terms (double) over the compacted
//              pairs; tiles past the valid count write zeros.
//  5. finalize grid N, 256 threads: sums the tile partials in a fixed order and writes the row.
// Everything is deterministic: the integer atomics only build histograms, all floating-point sums
// use fixed reduction orders.
#include "device_utils.cuh"
#include "kernels.h"

namespace s2rdepth {
namespace cuda {
namespace {

using namespace detail;

constexpr int kThreads = 256;
constexpr int kItems = 16;
constexpr int kTile = kThreads * kItems;  // candidate pixels (or compacted pairs) per block
constexpr int kSelectThreads = 1024;
constexpr int kDigitBits = 11;
constexpr int kBins = 1 << kDigitBits;
constexpr int kBinsPerThread = kBins / kSelectThreads;
constexpr int kFields = 8;  // abs_rel, sq_rel, sq, sq_log, log10, a1, a2, a3
constexpr int kCols = 10;
constexpr unsigned kNoBin = 0xffffffffu;

static_assert(kBins % kSelectThreads == 0, "bins must split evenly over the select block");
static_assert(kFields * kWarpSize == kThreads, "finalize: one warp per metric field");

// Candidate rectangle of an image.
struct Crop {
  int64_t HW;  // H * W (image stride)
  int64_t W;   // image row stride
  int row0, col0;
  int cw;      // columns in the rectangle
  int D;       // candidate pixels (rows * cw)
  int tiles;   // ceil(D / kTile)
};

__device__ __forceinline__ int64_t pixel_of(const Crop& cr, int j) {
  const int yy = j / cr.cw;
  const int xx = j - yy * cr.cw;
  return int64_t(cr.row0 + yy) * cr.W + (cr.col0 + xx);
}

template <typename T>
__device__ __forceinline__ bool gt_valid(T g, T lo, T hi) {
  return g > lo && g < hi;  // false for NaN
}

// torch.clamp semantics: NaN stays NaN.
__device__ __forceinline__ double clamp_nan(double v, double lo, double hi) {
  return v < lo ? lo : (v > hi ? hi : v);
}

// ------------------------------------------------------------------- order-preserving keys
template <typename T>
struct KeyOf;

template <>
struct KeyOf<float> {
  using K = unsigned int;
  static constexpr int kBits = 32;
  static __device__ __forceinline__ K encode(float v) {
    unsigned int u = __float_as_uint(v);
    if ((u & 0x7fffffffu) > 0x7f800000u) return 0xffffffffu;  // any NaN: largest
    if (u == 0x80000000u) u = 0u;                              // -0 -> +0
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
  }
  static __device__ __forceinline__ float decode(K k) {
    return __uint_as_float((k & 0x80000000u) ? (k & 0x7fffffffu) : ~k);
  }
};

template <>
struct KeyOf<double> {
  using K = unsigned long long;
  static constexpr int kBits = 64;
  static constexpr K kSign = 0x8000000000000000ull;
  static __device__ __forceinline__ K encode(double v) {
    K u = static_cast<K>(__double_as_longlong(v));
    if ((u & ~kSign) > 0x7ff0000000000000ull) return ~0ull;
    if (u == kSign) u = 0ull;
    return (u & kSign) ? ~u : (u | kSign);
  }
  static __device__ __forceinline__ double decode(K k) {
    return __longlong_as_double(static_cast<long long>((k & kSign) ? (k & ~kSign) : ~k));
  }
};

// ------------------------------------------------------------------------ 1. count
template <typename T>
__global__ void __launch_bounds__(kThreads)
    dm_count_kernel(const T* __restrict__ gt, int* __restrict__ counts, Crop cr, T lo, T hi) {
  __shared__ int red[kWarpSize];
  const int64_t b = blockIdx.x;
  const int64_t n = b / cr.tiles;
  const int tile = static_cast<int>(b - n * cr.tiles);
  const T* g = gt + n * cr.HW;
  int cnt = 0;
#pragma unroll 4
  for (int it = 0; it < kItems; ++it) {
    const int j = tile * kTile + it * kThreads + int(threadIdx.x);
    if (j < cr.D) cnt += gt_valid(g[pixel_of(cr, j)], lo, hi) ? 1 : 0;
  }
  cnt = block_sum(cnt, red);
  if (threadIdx.x == 0) counts[b] = cnt;
}

// ---------------------------------------------------------------------- 2. scatter
template <typename T>
__global__ void __launch_bounds__(kThreads)
    dm_scatter_kernel(const T* __restrict__ pred, const T* __restrict__ gt,
                      const int* __restrict__ counts, T* __restrict__ comp_g,
                      T* __restrict__ comp_p, int* __restrict__ totals, Crop cr, T lo, T hi) {
  __shared__ int red[kWarpSize];
  __shared__ int warp_cnt[kThreads / kWarpSize];
  const int64_t b = blockIdx.x;
  const int64_t n = b / cr.tiles;
  const int tile = static_cast<int>(b - n * cr.tiles);
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
  const int* cnt = counts + n * cr.tiles;

  // Offset of this tile in the image's compacted list.
  int pre = 0;
  for (int t = threadIdx.x; t < tile; t += blockDim.x) pre += cnt[t];
  pre = block_sum(pre, red);
  if (tile == cr.tiles - 1 && threadIdx.x == 0) totals[n] = pre + cnt[tile];

  const T* g = gt + n * cr.HW;
  const T* p = pred + n * cr.HW;
  T* og = comp_g + n * int64_t(cr.D);
  T* op = comp_p + n * int64_t(cr.D);
  int run = pre;
  for (int it = 0; it < kItems; ++it) {  // uniform trip count: ballots see full warps
    const int j = tile * kTile + it * kThreads + int(threadIdx.x);
    bool ok = false;
    T gv = T(0), pv = T(0);
    if (j < cr.D) {
      const int64_t px = pixel_of(cr, j);
      gv = g[px];
      ok = gt_valid(gv, lo, hi);
      if (ok) pv = p[px];
    }
    const unsigned bal = __ballot_sync(kFullMask, ok);
    if (lane == 0) warp_cnt[warp] = __popc(bal);
    __syncthreads();
    int woff = 0, tot = 0;
#pragma unroll
    for (int w = 0; w < kThreads / kWarpSize; ++w) {
      woff += w < warp ? warp_cnt[w] : 0;
      tot += warp_cnt[w];
    }
    if (ok) {
      const int dst = run + woff + __popc(bal & ((1u << lane) - 1u));
      og[dst] = gv;
      op[dst] = pv;
    }
    run += tot;
    __syncthreads();  // warp_cnt is rewritten by the next item
  }
}

// ----------------------------------------------------------------------- 3. select
template <typename K>
struct SelectSmem {
  int hist[kBins];
  int scan[kWarpSize + 1];
  int sel_bin, sel_before;
  K kmax[kWarpSize];
};

// Exclusive prefix sum of v over the block; *total receives the block sum. Contains barriers.
__device__ __forceinline__ int block_exclusive_scan(int v, int* scan, int* total) {
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
  const int nwarps = blockDim.x / kWarpSize;
  int inc = v;
#pragma unroll
  for (int off = 1; off < kWarpSize; off <<= 1) {
    const int t = __shfl_up_sync(kFullMask, inc, off);
    if (lane >= off) inc += t;
  }
  __syncthreads();
  if (lane == kWarpSize - 1) scan[warp] = inc;
  __syncthreads();
  if (warp == 0) {
    const int w = lane < nwarps ? scan[lane] : 0;
    int winc = w;
#pragma unroll
    for (int off = 1; off < kWarpSize; off <<= 1) {
      const int t = __shfl_up_sync(kFullMask, winc, off);
      if (lane >= off) winc += t;
    }
    scan[lane] = winc - w;
    if (lane == kWarpSize - 1) scan[kWarpSize] = winc;
  }
  __syncthreads();
  *total = scan[kWarpSize];
  return scan[warp] + inc - v;
}

// Key of the element of rank `rank` (0-based, ascending) among a[0, c); *below receives the
// number of elements with a strictly smaller key. Requires 0 <= rank < c. All threads call.
template <typename T>
__device__ typename KeyOf<T>::K block_radix_select(const T* __restrict__ a, int c, int rank,
                                                   int* below,
                                                   SelectSmem<typename KeyOf<T>::K>& sm) {
  using K = typename KeyOf<T>::K;
  const int tid = threadIdx.x, lane = threadIdx.x % kWarpSize;
  K prefix = 0, mask = 0;
  int k = rank, under = 0;
  for (int hi = KeyOf<T>::kBits; hi > 0; hi -= kDigitBits) {
    const int lo = hi > kDigitBits ? hi - kDigitBits : 0;
    const unsigned dmask = (1u << (hi - lo)) - 1u;
    for (int q = tid; q < kBins; q += blockDim.x) sm.hist[q] = 0;
    __syncthreads();
    // Histogram of digit [lo, hi) over the elements whose higher digits equal the prefix.
    for (int base = 0; base < c; base += blockDim.x) {  // uniform trip count for __match_any_sync
      const int i = base + tid;
      unsigned bin = kNoBin;
      if (i < c) {
        const K key = KeyOf<T>::encode(a[i]);
        if ((key & mask) == prefix) bin = static_cast<unsigned>(key >> lo) & dmask;
      }
      const unsigned peers = __match_any_sync(kFullMask, bin);
      if (bin != kNoBin && lane == __ffs(peers) - 1) atomicAdd(&sm.hist[bin], __popc(peers));
    }
    __syncthreads();
    // Digit holding rank k: thread t owns bins [t * kBinsPerThread, (t + 1) * kBinsPerThread).
    int s = 0;
#pragma unroll
    for (int q = 0; q < kBinsPerThread; ++q) s += sm.hist[tid * kBinsPerThread + q];
    int total;
    const int excl = block_exclusive_scan(s, sm.scan, &total);
    if (excl <= k && k < excl + s) {  // exactly one thread
      int before = excl, q = tid * kBinsPerThread;
      while (before + sm.hist[q] <= k) before += sm.hist[q++];
      sm.sel_bin = q;
      sm.sel_before = before;
    }
    __syncthreads();
    prefix |= static_cast<K>(sm.sel_bin) << lo;
    mask |= static_cast<K>(dmask) << lo;
    k -= sm.sel_before;
    under += sm.sel_before;
    __syncthreads();  // sel_* and hist are rewritten by the next pass
  }
  *below = under;
  return prefix;
}

// Largest key smaller than `bound` among a[0, c) (at least one exists). All threads call.
template <typename T>
__device__ typename KeyOf<T>::K block_max_below(const T* __restrict__ a, int c,
                                                typename KeyOf<T>::K bound,
                                                SelectSmem<typename KeyOf<T>::K>& sm) {
  using K = typename KeyOf<T>::K;
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
  const int nwarps = blockDim.x / kWarpSize;
  K best = 0;
  for (int i = threadIdx.x; i < c; i += blockDim.x) {
    const K key = KeyOf<T>::encode(a[i]);
    if (key < bound && key > best) best = key;
  }
#pragma unroll
  for (int off = kWarpSize / 2; off > 0; off >>= 1) {
    const K o = __shfl_xor_sync(kFullMask, best, off);
    best = o > best ? o : best;
  }
  if (lane == 0) sm.kmax[warp] = best;
  __syncthreads();
  K r = 0;
  for (int w = 0; w < nwarps; ++w) r = sm.kmax[w] > r ? sm.kmax[w] : r;
  return r;
}

// Block 2n: median of G of image n; block 2n + 1: median of P (clamped first in s2r order).
template <typename T>
__global__ void __launch_bounds__(kSelectThreads)
    dm_select_kernel(const T* __restrict__ comp_g, const T* __restrict__ comp_p,
                     const int* __restrict__ totals, double* __restrict__ med, int D,
                     double min_depth, double max_depth, bool s2r_order) {
  using K = typename KeyOf<T>::K;
  __shared__ SelectSmem<K> sm;
  const int64_t n = blockIdx.x / 2;
  const int which = blockIdx.x % 2;
  const int c = totals[n];
  if (c == 0) {
    if (threadIdx.x == 0) med[blockIdx.x] = __longlong_as_double(0x7ff8000000000000ll);  // NaN
    return;
  }
  const T* a = (which == 0 ? comp_g : comp_p) + n * int64_t(D);
  const int k_hi = c / 2;
  int below = 0;
  const K key_hi = block_radix_select<T>(a, c, k_hi, &below, sm);
  double v_hi = static_cast<double>(KeyOf<T>::decode(key_hi));
  double v_lo = v_hi;
  // Even count: rank k_hi - 1 holds the same key unless all k_hi smaller ranks have smaller keys.
  if (c % 2 == 0 && below >= k_hi)
    v_lo = static_cast<double>(KeyOf<T>::decode(block_max_below<T>(a, c, key_hi, sm)));
  if (which == 1 && s2r_order) {
    v_hi = clamp_nan(v_hi, min_depth, max_depth);
    v_lo = clamp_nan(v_lo, min_depth, max_depth);
  }
  if (threadIdx.x == 0) med[blockIdx.x] = (c % 2) ? v_hi : 0.5 * (v_lo + v_hi);
}

// ----------------------------------------------------------------------- 4. metrics
__device__ __forceinline__ double scale_ratio(const double* med, int64_t n, bool median_scaling) {
  return median_scaling ? med[2 * n] / med[2 * n + 1] : 1.0;
}

template <typename T>
__global__ void __launch_bounds__(kThreads)
    dm_metrics_kernel(const T* __restrict__ comp_g, const T* __restrict__ comp_p,
                      const int* __restrict__ totals, const double* __restrict__ med,
                      double* __restrict__ partial, int D, int tiles, double min_depth,
                      double max_depth, bool median_scaling, bool s2r_order) {
  __shared__ double red[kThreads / kWarpSize][kFields];
  const int64_t b = blockIdx.x;
  const int64_t n = b / tiles;
  const int tile = static_cast<int>(b - n * tiles);
  const int c = totals[n];
  const int start = tile * kTile;
  double* out = partial + b * kFields;
  if (start >= c) {  // uniform over the block
    if (threadIdx.x < kFields) out[threadIdx.x] = 0.0;
    return;
  }
  const int end = c - start < kTile ? c : start + kTile;
  const double ratio = scale_ratio(med, n, median_scaling);
  const T* g_in = comp_g + n * int64_t(D);
  const T* p_in = comp_p + n * int64_t(D);
  double s[kFields];
#pragma unroll
  for (int f = 0; f < kFields; ++f) s[f] = 0.0;
  for (int j = start + int(threadIdx.x); j < end; j += kThreads) {
    const double g = static_cast<double>(g_in[j]);
    double p = static_cast<double>(p_in[j]);
    if (s2r_order) p = clamp_nan(p, min_depth, max_depth);
    p = p * ratio;
    if (!s2r_order) p = clamp_nan(p, min_depth, max_depth);
    const double diff = g - p;
    const double sq = diff * diff;
    const double dlog = log(g) - log(p);
    s[0] += fabs(diff) / g;
    s[1] += sq / g;
    s[2] += sq;
    s[3] += dlog * dlog;
    s[4] += fabs(log10(g) - log10(p));
    // max(g/p, p/g) < t, with torch.maximum's NaN propagation (NaN compares false).
    const double r1 = g / p, r2 = p / g;
    s[5] += (r1 < 1.25 && r2 < 1.25) ? 1.0 : 0.0;
    s[6] += (r1 < 1.25 * 1.25 && r2 < 1.25 * 1.25) ? 1.0 : 0.0;
    s[7] += (r1 < 1.25 * 1.25 * 1.25 && r2 < 1.25 * 1.25 * 1.25) ? 1.0 : 0.0;
  }
  const int lane = threadIdx.x % kWarpSize, warp = threadIdx.x / kWarpSize;
#pragma unroll
  for (int f = 0; f < kFields; ++f) {
    const double v = warp_sum(s[f]);
    if (lane == 0) red[warp][f] = v;
  }
  __syncthreads();
  if (threadIdx.x < kFields) {
    double t = 0.0;
#pragma unroll
    for (int w = 0; w < kThreads / kWarpSize; ++w) t += red[w][threadIdx.x];
    out[threadIdx.x] = t;
  }
}

// ---------------------------------------------------------------------- 5. finalize
__global__ void __launch_bounds__(kThreads)
    dm_finalize_kernel(const double* __restrict__ partial, const int* __restrict__ totals,
                       const double* __restrict__ med, double* __restrict__ out, int tiles,
                       bool median_scaling) {
  __shared__ double sums[kFields];
  const int64_t n = blockIdx.x;
  const int lane = threadIdx.x % kWarpSize, f = threadIdx.x / kWarpSize;  // warp f: field f
  double s = 0.0;
  for (int t = lane; t < tiles; t += kWarpSize) s += partial[(n * tiles + t) * kFields + f];
  s = warp_sum(s);
  if (lane == 0) sums[f] = s;
  __syncthreads();
  if (threadIdx.x != 0) return;
  double* row = out + n * kCols;
  const int c = totals[n];
  if (c == 0) {
    const double nan = __longlong_as_double(0x7ff8000000000000ll);
    for (int k = 0; k < kCols - 1; ++k) row[k] = nan;
    row[kCols - 1] = 0.0;
    return;
  }
  const double cd = static_cast<double>(c);
  row[0] = sums[0] / cd;
  row[1] = sums[1] / cd;
  row[2] = sqrt(sums[2] / cd);
  row[3] = sqrt(sums[3] / cd);
  row[4] = sums[4] / cd;
  row[5] = sums[5] / cd;
  row[6] = sums[6] / cd;
  row[7] = sums[7] / cd;
  row[8] = scale_ratio(med, n, median_scaling);
  row[9] = cd;
}

// ------------------------------------------------------------------------- host side
struct Layout {
  Crop cr;
  void* comp_g;
  void* comp_p;
  int* counts;
  int* totals;
  double* med;
  double* partial;
  size_t bytes;
};

template <typename T>
Layout layout(void* workspace, int64_t N, int64_t H, int64_t W, int64_t row0, int64_t row1,
              int64_t col0, int64_t col1) {
  Layout l{};
  const int64_t rows = row1 > row0 ? row1 - row0 : 0;
  const int64_t cols = col1 > col0 ? col1 - col0 : 0;
  l.cr.HW = H * W;
  l.cr.W = W;
  l.cr.row0 = static_cast<int>(row0);
  l.cr.col0 = static_cast<int>(col0);
  l.cr.cw = static_cast<int>(cols > 0 ? cols : 1);
  l.cr.D = static_cast<int>(rows * cols);
  l.cr.tiles = static_cast<int>(ceil_div(l.cr.D, kTile));
  Carver cv{static_cast<char*>(workspace), 0};
  l.comp_g = cv.take<T>(size_t(N) * size_t(l.cr.D));
  l.comp_p = cv.take<T>(size_t(N) * size_t(l.cr.D));
  l.counts = cv.take<int>(size_t(N) * size_t(l.cr.tiles));
  l.totals = cv.take<int>(size_t(N));
  l.med = cv.take<double>(size_t(2 * N));
  l.partial = cv.take<double>(size_t(N) * size_t(l.cr.tiles) * kFields);
  l.bytes = cv.used;
  return l;
}

template <typename T>
cudaError_t impl(const void* pred, const void* gt, double* out, int64_t N, int64_t H, int64_t W,
                 int64_t row0, int64_t row1, int64_t col0, int64_t col1, double min_depth,
                 double max_depth, bool median_scaling, bool s2r_order, void* workspace,
                 cudaStream_t stream) {
  if (N <= 0) return cudaSuccess;
  const Layout l = layout<T>(workspace, N, H, W, row0, row1, col0, col1);
  const T* p = static_cast<const T*>(pred);
  const T* g = static_cast<const T*>(gt);
  T* cg = static_cast<T*>(l.comp_g);
  T* cp = static_cast<T*>(l.comp_p);
  const T lo = static_cast<T>(min_depth), hi = static_cast<T>(max_depth);
  const int tiles = l.cr.tiles;
  // Valid counts start at 0 (images without candidate pixels never get a scatter block).
  const cudaError_t err = cudaMemsetAsync(l.totals, 0, size_t(N) * sizeof(int), stream);
  if (err != cudaSuccess) return err;
  if (tiles > 0) {
    const unsigned blocks = static_cast<unsigned>(N * tiles);
    dm_count_kernel<T><<<blocks, kThreads, 0, stream>>>(g, l.counts, l.cr, lo, hi);
    dm_scatter_kernel<T><<<blocks, kThreads, 0, stream>>>(p, g, l.counts, cg, cp, l.totals, l.cr, lo, hi);
  }
  if (median_scaling)
    dm_select_kernel<T><<<static_cast<unsigned>(2 * N), kSelectThreads, 0, stream>>>(
        cg, cp, l.totals, l.med, l.cr.D, min_depth, max_depth, s2r_order);
  if (tiles > 0)
    dm_metrics_kernel<T><<<static_cast<unsigned>(N * tiles), kThreads, 0, stream>>>(
        cg, cp, l.totals, l.med, l.partial, l.cr.D, tiles, min_depth, max_depth, median_scaling,
        s2r_order);
  dm_finalize_kernel<<<static_cast<unsigned>(N), kThreads, 0, stream>>>(l.partial, l.totals, l.med, out,
                                                                        tiles, median_scaling);
  return cudaGetLastError();
}

}  // namespace

size_t depth_metrics_workspace_bytes(DType dtype, int64_t N, int64_t H, int64_t W, int64_t row0,
                                     int64_t row1, int64_t col0, int64_t col1) {
  switch (dtype) {
    case DType::kFloat32: return layout<float>(nullptr, N, H, W, row0, row1, col0, col1).bytes;
    case DType::kFloat64: return layout<double>(nullptr, N, H, W, row0, row1, col0, col1).bytes;
    default: return 0;
  }
}

cudaError_t depth_metrics(DType dtype, const void* pred, const void* gt, double* out, int64_t N,
                          int64_t H, int64_t W, int64_t row0, int64_t row1, int64_t col0,
                          int64_t col1, double min_depth, double max_depth, bool median_scaling,
                          bool s2r_order, void* workspace, cudaStream_t stream) {
  switch (dtype) {
    case DType::kFloat32:
      return impl<float>(pred, gt, out, N, H, W, row0, row1, col0, col1, min_depth, max_depth,
                         median_scaling, s2r_order, workspace, stream);
    case DType::kFloat64:
      return impl<double>(pred, gt, out, N, H, W, row0, row1, col0, col1, min_depth, max_depth,
                          median_scaling, s2r_order, workspace, stream);
    default: return cudaErrorInvalidValue;
  }
}

}  // namespace cuda
}  // namespace s2rdepth
