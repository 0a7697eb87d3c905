// Small numeric building blocks for the CPU kernels, written so that GCC/Clang vectorise them at
// -O3 without -ffast-math: fixed-width lane accumulators (no reassociation needed) and a
// branch-free exp for float.
#pragma once

#include <c10/util/BFloat16.h>
#include <c10/util/Half.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

namespace s2rdepth {
namespace cpu {

constexpr int kLanes = 8;

// Hot row/plane loops are compiled twice on x86-64: for AVX2 + FMA (x86-64-v3) and for the
// baseline, chosen once at load time by the dynamic linker (GCC/Clang function multiversioning).
// Elsewhere (aarch64 Jetson) the plain build is used.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(S2RDEPTH_NO_CPU_CLONES)
#define S2R_CPU_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define S2R_CPU_CLONES
#endif

// Every reduction here accumulates in double: float sums lose digits on large planes.

// sum(x - shift) and sum((x - shift)^2) over n contiguous values. Shifting by a sample of the
// data keeps the single-pass variance well conditioned when |mean| >> std.
template <typename T>
inline void shifted_moments(const T* x, int64_t n, double shift, double& s1, double& s2) {
  double a1[kLanes] = {0}, a2[kLanes] = {0};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) {
      const double v = static_cast<double>(x[i + l]) - shift;
      a1[l] += v;
      a2[l] += v * v;
    }
  }
  for (; i < n; ++i) {
    const double v = static_cast<double>(x[i]) - shift;
    a1[0] += v;
    a2[0] += v * v;
  }
  s1 = s2 = 0;
  for (int l = 0; l < kLanes; ++l) {
    s1 += a1[l];
    s2 += a2[l];
  }
}

// sum(g) and sum(g * x) over n contiguous values.
template <typename T>
inline void dot_moments(const T* g, const T* x, int64_t n, double& sg, double& sgx) {
  double a1[kLanes] = {0}, a2[kLanes] = {0};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int l = 0; l < kLanes; ++l) {
      const double gv = static_cast<double>(g[i + l]);
      a1[l] += gv;
      a2[l] += gv * static_cast<double>(x[i + l]);
    }
  }
  for (; i < n; ++i) {
    const double gv = static_cast<double>(g[i]);
    a1[0] += gv;
    a2[0] += gv * static_cast<double>(x[i]);
  }
  sg = sgx = 0;
  for (int l = 0; l < kLanes; ++l) {
    sg += a1[l];
    sgx += a2[l];
  }
}

// Arithmetic type of the elementwise passes: float for float/half/bfloat16, double for double.
template <typename T>
using opmath_t = std::conditional_t<std::is_same<T, double>::value, double, float>;

// exp(x) for float, relative error about 2e-7, arguments clamped to [-87.3, 88] (so results
// saturate at exp(-87.3) and exp(88)). Range reduction x = k ln2 + r with |r| <= ln2/2 (k rounded
// with the 1.5 * 2^23 trick, valid in the default rounding mode), a degree-6 polynomial for
// exp(r), and 2^k assembled in the exponent bits: no branches, no calls, so loops vectorise.
inline float exp_f32(float x) {
  x = x > -87.3f ? x : -87.3f;  // two single comparisons: maxps / minps when vectorised
  x = x < 88.0f ? x : 88.0f;
  const float k = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
  const float r = (x - k * 0.693359375f) + k * 2.12194440e-4f;  // Cody-Waite split of ln2
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t e = (static_cast<int32_t>(k) + 127) << 23;
  float scale;
  std::memcpy(&scale, &e, sizeof(scale));
  return p * scale;
}

// Natural log of a positive, finite, normal double (callers guarantee it), within about 2 ulp,
// written with integer/float arithmetic only so that loops over it vectorise (AVX2: 4 lanes).
// x = 2^e * m with m in [sqrt(1/2), sqrt(2)); ln m = 2 atanh(s), s = (m - 1) / (m + 1),
// |s| <= 0.1716, summed to s^23 (truncation error < 1e-18).
inline double log_pos_f64(double x) {
  uint64_t bits;
  std::memcpy(&bits, &x, sizeof(bits));
  // exponent as a double without an int64 -> double conversion (none in AVX2): place the biased
  // exponent in the mantissa of 2^52 and subtract 2^52.
  uint64_t ebits = (bits >> 52) | 0x4330000000000000ull;
  double e;
  std::memcpy(&e, &ebits, sizeof(e));
  e -= 4503599627370496.0 + 1023.0;
  bits = (bits & 0x000FFFFFFFFFFFFFull) | 0x3FF0000000000000ull;  // m in [1, 2)
  double m;
  std::memcpy(&m, &bits, sizeof(m));
  const bool big = m > 1.4142135623730951;
  m = big ? m * 0.5 : m;
  e = big ? e + 1.0 : e;
  const double s = (m - 1.0) / (m + 1.0), s2 = s * s;
  double q = 1.0 / 23;
  q = q * s2 + 1.0 / 21;
  q = q * s2 + 1.0 / 19;
  q = q * s2 + 1.0 / 17;
  q = q * s2 + 1.0 / 15;
  q = q * s2 + 1.0 / 13;
  q = q * s2 + 1.0 / 11;
  q = q * s2 + 1.0 / 9;
  q = q * s2 + 1.0 / 7;
  q = q * s2 + 1.0 / 5;
  q = q * s2 + 1.0 / 3;
  const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
  return e * ln2_hi + (2.0 * s + 2.0 * s * s2 * q + e * ln2_lo);
}

inline double exp_any(double x) { return std::exp(x); }
inline float exp_any(float x) { return exp_f32(x); }

}  // namespace cpu
}  // namespace s2rdepth
