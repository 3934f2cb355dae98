// The convolutional family's data movements (src/models/cnn/imageOps.ts has the same): patches of
// channels-last images gathered into rows (im2col) and scattered back (its adjoint), a copy per run of
// k·C contiguous values, the samples split over threads. The arithmetic stays in the device's gemm.
#pragma once

#include <napi.h>
#include <algorithm>
#include <cstring>
#include <thread>

#include "arrays.h"
#include "abi_check.h"
#include "threads.h"
#include "elementwise.h"

namespace {

constexpr napi_type_tag CONV_CHECKED = {0x666561746c616235ULL, 0x6162692d636f6e76ULL};

struct ConvGeometry {
  int n, height, width, channels, kernel, stride, padding, outHeight, outWidth;
};

ConvGeometry geometryOf(const Napi::Object& g) {
  auto number = [&](const char* name) { return g.Get(name).As<Napi::Number>().Int32Value(); };
  return {number(abi::conv::n), number(abi::conv::height), number(abi::conv::width), number(abi::conv::channels), number(abi::conv::kernel),
          number(abi::conv::stride), number(abi::conv::padding), number(abi::conv::outHeight), number(abi::conv::outWidth)};
}

// Threads for a pass over n images of this many values: one below a few hundred thousand (not worth a wake-up).
int imageThreads(const ConvGeometry& g) {
  size_t work = size_t(g.n) * g.outHeight * g.outWidth * g.kernel * g.kernel * g.channels;
  int hardware = std::max(1, int(std::thread::hardware_concurrency()));
  return work < 200000 ? 1 : std::min(hardware, g.n);
}

// work(first, last) over `count` items in `threads` contiguous blocks on the kept pool (inline for one):
// no BLAS runs meanwhile, and starting threads at every pass cost system time.
template <typename F>
void overBlocks(size_t count, int threads, F work) {
  auto share = [&](int t) {
    auto [first, last] = blockOf(count, t, threads);
    work(first, last);
  };
  if (threads <= 1) share(0);
  else lanePool(threads).run(threads, share);
}

template <typename T>
void im2colImages(const ConvGeometry& g, const T* x, T* cols, int first, int last) {
  const int c = g.channels, k = g.kernel;
  const size_t rowLength = size_t(k) * k * c, image = size_t(g.height) * g.width * c;
  for (int i = first; i < last; i++) {
    const T* in = x + i * image;
    T* row = cols + size_t(i) * g.outHeight * g.outWidth * rowLength;
    for (int oy = 0; oy < g.outHeight; oy++)
      for (int ox = 0; ox < g.outWidth; ox++, row += rowLength)
        for (int ky = 0; ky < k; ky++) {
          const int y = oy * g.stride - g.padding + ky;
          T* to = row + size_t(ky) * k * c;
          if (y < 0 || y >= g.height) { std::fill(to, to + size_t(k) * c, T(0)); continue; }
          const int x0 = ox * g.stride - g.padding;
          // The columns of this kernel row that fall inside the image, copied as one run.
          const int lo = std::max(0, -x0), hi = std::min(k, g.width - x0);
          if (lo > 0) std::fill(to, to + size_t(lo) * c, T(0));
          if (hi > lo) std::memcpy(to + size_t(lo) * c, in + (size_t(y) * g.width + x0 + lo) * c, size_t(hi - lo) * c * sizeof(T));
          if (hi < k) std::fill(to + size_t(std::max(hi, lo)) * c, to + size_t(k) * c, T(0));
        }
  }
}

template <typename T>
void col2imImages(const ConvGeometry& g, const T* cols, T* dx, int first, int last) {
  const int c = g.channels, k = g.kernel;
  const size_t rowLength = size_t(k) * k * c, image = size_t(g.height) * g.width * c;
  for (int i = first; i < last; i++) {
    T* out = dx + i * image;
    std::fill(out, out + image, T(0));
    const T* row = cols + size_t(i) * g.outHeight * g.outWidth * rowLength;
    for (int oy = 0; oy < g.outHeight; oy++)
      for (int ox = 0; ox < g.outWidth; ox++, row += rowLength)
        for (int ky = 0; ky < k; ky++) {
          const int y = oy * g.stride - g.padding + ky;
          if (y < 0 || y >= g.height) continue;
          const int x0 = ox * g.stride - g.padding;
          const int lo = std::max(0, -x0), hi = std::min(k, g.width - x0);
          const T* from = row + (size_t(ky) * k + lo) * c;
          T* to = out + (size_t(y) * g.width + x0 + lo) * c;
          for (size_t j = 0, m = size_t(std::max(0, hi - lo)) * c; j < m; j++) to[j] += from[j];
        }
  }
}

// conv(geometry, from, to, adjoint): im2col from images into rows, or (adjoint) col2im from rows into images.
Napi::Value ConvPatches(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (!info[0].IsObject()) refuse("the convolution geometry is not an object");
  else checkFieldsOnce(info[0].As<Napi::Object>(), "conv", abi::conv::fields, CONV_CHECKED);
  if (argumentsRefused(env, "convPatches")) return env.Undefined();
  const ConvGeometry g = geometryOf(info[0].As<Napi::Object>());
  const bool adjoint = info[3].As<Napi::Boolean>();
  Array from = arrayOf(info[1]), to = arrayOf(info[2]);
  if (!from.valid || !to.valid || from.isFloat32 != to.isFloat32) {
    fail(env, "convPatches: the arrays must be typed arrays of one float type");
    return env.Undefined();
  }
  const size_t images = size_t(g.n) * g.height * g.width * g.channels;
  const size_t patches = size_t(g.n) * g.outHeight * g.outWidth * g.kernel * g.kernel * g.channels;
  if ((adjoint ? from.length < patches || to.length < images : from.length < images || to.length < patches)) {
    fail(env, "convPatches: an array is shorter than its shape");
    return env.Undefined();
  }
  const int threads = imageThreads(g);
  auto run = [&](auto* in, auto* out) {
    overBlocks(size_t(g.n), threads, [&](size_t first, size_t last) {
      if (adjoint) col2imImages(g, in, out, int(first), int(last));
      else im2colImages(g, in, out, int(first), int(last));
    });
  };
  if (from.isFloat32) run(static_cast<const float*>(from.data), static_cast<float*>(to.data));
  else run(static_cast<const double*>(from.data), static_cast<double*>(to.data));
  return env.Undefined();
}

// The family's elementwise passes over whole activations, split over the kept pool above ~64k values:
// activate(code, leak, pre, value, derivative, threads) as elementwise.h's activate; combine(kind, a, b,
// out, threads) out = a ⊙ b (kind 0) or a + b (kind 1). Every array has out's length and float type.
int elementThreads(size_t length, int threads) { return length < 65536 ? 1 : std::max(1, threads); }

Napi::Value Activate(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const int kind = codeIndex(info[0], abi::activationNames, abi::activationCount);
  Array pre = arrayOf(info[2]), value = arrayOf(info[3]), derivative = arrayOf(info[4]);
  if (kind < 0 || !pre.valid || !value.valid || !derivative.valid || pre.isFloat32 != value.isFloat32 || pre.isFloat32 != derivative.isFloat32 ||
      value.length < pre.length || derivative.length < pre.length) {
    fail(env, "activate: an activation of native/abi.json and three typed arrays of one float type and length");
    return env.Undefined();
  }
  const double leak = info[1].As<Napi::Number>().DoubleValue();
  const int threads = info[5].As<Napi::Number>().Int32Value();
  auto run = [&](auto* z, auto* v, auto* d) { overBlocks(pre.length, elementThreads(pre.length, threads), [&](size_t a, size_t b) { activate(kind, leak, z + a, v + a, d + a, b - a); }); };
  if (pre.isFloat32) run(static_cast<const float*>(pre.data), static_cast<float*>(value.data), static_cast<float*>(derivative.data));
  else run(static_cast<const double*>(pre.data), static_cast<double*>(value.data), static_cast<double*>(derivative.data));
  return env.Undefined();
}

Napi::Value Combine(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const int kind = info[0].As<Napi::Number>().Int32Value();
  Array a = arrayOf(info[1]), b = arrayOf(info[2]), out = arrayOf(info[3]);
  if ((kind != 0 && kind != 1) || !a.valid || !b.valid || !out.valid || a.isFloat32 != out.isFloat32 || b.isFloat32 != out.isFloat32 || a.length < out.length || b.length < out.length) {
    fail(env, "combine: kind 0 (product) or 1 (sum) and three typed arrays of one float type, the first two at least as long as the third");
    return env.Undefined();
  }
  const int threads = info[4].As<Napi::Number>().Int32Value();
  auto run = [&](auto* x, auto* y, auto* z) {
    overBlocks(out.length, elementThreads(out.length, threads), [&](size_t first, size_t last) {
      if (kind == 0)
        for (size_t i = first; i < last; i++) z[i] = x[i] * y[i];
      else
        for (size_t i = first; i < last; i++) z[i] = x[i] + y[i];
    });
  };
  if (out.isFloat32) run(static_cast<const float*>(a.data), static_cast<const float*>(b.data), static_cast<float*>(out.data));
  else run(static_cast<const double*>(a.data), static_cast<const double*>(b.data), static_cast<double*>(out.data));
  return env.Undefined();
}

// Pooling of channels-last images over size × size windows, as src/models/cnn/imageOps.ts does (the same
// order of sums, in double, the first maximum kept), threaded over the images. Forward records for max the
// input index each output read; backward (adjoint) scatters dy through it, or spreads it over the window.
// pool(kind 0 max / 1 avg, adjoint, [n, height, width, channels, outHeight, outWidth, size, stride], from, to, where, threads)
template <typename T>
void poolImages(bool average, bool adjoint, const int* g, const T* from, T* to, int32_t* where, int first, int last) {
  const int height = g[1], width = g[2], c = g[3], outHeight = g[4], outWidth = g[5], size = g[6], stride = g[7];
  const size_t image = size_t(height) * width * c, outImage = size_t(outHeight) * outWidth * c;
  const double share = 1.0 / (size * size);
  for (int i = first; i < last; i++) {
    const size_t base = i * image;
    size_t out = i * outImage;
    if (adjoint) std::fill(to + base, to + base + image, T(0));
    for (int oy = 0; oy < outHeight; oy++)
      for (int ox = 0; ox < outWidth; ox++)
        for (int ch = 0; ch < c; ch++, out++) {
          if (adjoint && !average) {
            to[where[out]] = T(double(to[where[out]]) + double(from[out]));
            continue;
          }
          if (adjoint) {
            const double gradient = double(from[out]) * share;
            for (int ky = 0; ky < size; ky++)
              for (int kx = 0; kx < size; kx++) {
                const size_t at = base + (size_t(oy * stride + ky) * width + ox * stride + kx) * c + ch;
                to[at] = T(double(to[at]) + gradient);
              }
            continue;
          }
          double best = 0, sum = 0;
          int64_t at = -1;
          for (int ky = 0; ky < size; ky++)
            for (int kx = 0; kx < size; kx++) {
              const size_t index = base + (size_t(oy * stride + ky) * width + ox * stride + kx) * c + ch;
              const double v = from[index];
              sum += v;
              if (v > best || at < 0) {
                best = v;
                at = int64_t(index);
              }
            }
          if (average) to[out] = T(sum / (size * size));
          else {
            to[out] = T(best);
            where[out] = int32_t(at);
          }
        }
  }
}

Napi::Value Pool(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  const int kind = info[0].As<Napi::Number>().Int32Value();
  const bool adjoint = info[1].As<Napi::Boolean>();
  if (!info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_int32_array || info[2].As<Napi::Int32Array>().ElementLength() != 8) {
    fail(env, "pool: the geometry is an Int32Array of 8 numbers");
    return env.Undefined();
  }
  const int* g = info[2].As<Napi::Int32Array>().Data();
  Array from = arrayOf(info[3]), to = arrayOf(info[4]);
  const bool hasWhere = info[5].IsTypedArray() && info[5].As<Napi::TypedArray>().TypedArrayType() == napi_int32_array;
  const size_t images = size_t(g[0]) * g[1] * g[2] * g[3], outputs = size_t(g[0]) * g[4] * g[5] * g[3];
  if ((kind != 0 && kind != 1) || !from.valid || !to.valid || from.isFloat32 != to.isFloat32 || (kind == 0 && (!hasWhere || info[5].As<Napi::Int32Array>().ElementLength() < outputs)) ||
      (adjoint ? from.length < outputs || to.length < images : from.length < images || to.length < outputs) || g[6] < 1 || g[7] < 1 ||
      size_t(g[4] - 1) * g[7] + g[6] > size_t(g[1]) || size_t(g[5] - 1) * g[7] + g[6] > size_t(g[2]) || images > size_t(INT32_MAX)) {
    fail(env, "pool: arrays of one float type as long as their shapes, windows inside the image, and max's indices");
    return env.Undefined();
  }
  int32_t* where = hasWhere ? info[5].As<Napi::Int32Array>().Data() : nullptr;
  const int threads = images < 65536 ? 1 : std::min(std::max(1, info[6].As<Napi::Number>().Int32Value()), std::max(1, g[0]));
  auto run = [&](auto* in, auto* out) {
    overBlocks(size_t(g[0]), threads, [&](size_t first, size_t last) { poolImages(kind == 1, adjoint, g, in, out, where, int(first), int(last)); });
  };
  if (from.isFloat32) run(static_cast<const float*>(from.data), static_cast<float*>(to.data));
  else run(static_cast<const double*>(from.data), static_cast<double*>(to.data));
  return env.Undefined();
}

}  // namespace
