// The MLP family's kernels: one fused forward and backward pass over every member of an ensemble (src/models/mlp/tsKernels.ts is the reference), and the two-layer NTK Gram without forming J.
#pragma once

#include <napi.h>
#include <cblas.h>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>
#include "abi.generated.h"
#include "abi_check.h"
#include "arrays.h"
#include "elementwise.h"
#include "linalg.h"
#include "threads.h"

namespace {

// The ensemble's shape and parameter arrays (an MlpBatch), read once on the JavaScript thread.
template <typename T>
struct Net {
  int layers = 0, K = 0, kind = 0;
  double leak = 0;
  std::vector<int> widths;
  const double* multipliers = nullptr;
  const double* outputScale = nullptr;
  std::vector<T*> W, B;
};

template <typename T>
Net<T> netOf(const Napi::Object& batch) {
  Net<T> net;
  Napi::Array widthsA = batch.Get(abi::batch::widths).As<Napi::Array>();
  net.layers = int(widthsA.Length()) - 1;
  net.widths.resize(net.layers + 1);
  for (int l = 0; l <= net.layers; l++) net.widths[l] = widthsA.Get(uint32_t(l)).As<Napi::Number>().Int32Value();
  net.K = batch.Get(abi::batch::ensembleSize).As<Napi::Number>().Int32Value();
  net.kind = codeIndex(batch.Get(abi::batch::activation), abi::activationNames, abi::activationCount);
  net.leak = batch.Get(abi::batch::leak).As<Napi::Number>().DoubleValue();
  net.multipliers = static_cast<double*>(arrayOf(batch.Get(abi::batch::multipliers)).data);
  net.outputScale = static_cast<double*>(arrayOf(batch.Get(abi::batch::outputScale)).data);
  Napi::Array weightsA = batch.Get(abi::batch::weights).As<Napi::Array>();
  Napi::Array biasesA = batch.Get(abi::batch::biases).As<Napi::Array>();
  net.W.resize(net.layers);
  net.B.assign(net.layers, nullptr);
  for (int l = 0; l < net.layers; l++) {
    net.W[l] = dataOf<T>(weightsA.Get(uint32_t(l)));
    Napi::Value b = biasesA.Get(uint32_t(l));
    if (b.IsTypedArray()) net.B[l] = dataOf<T>(b);
  }
  return net;
}

// What one pass reads and writes: the rows, f₀ offsets, targets, loss, and where results go.
template <typename T>
struct Pass {
  const T* X = nullptr;
  int n = 0;
  const T* offsets = nullptr;
  int loss = NO_LOSS;
  const T* targets = nullptr;
  T* outputs = nullptr;
  double* losses = nullptr;
  std::vector<T*> GW, GB;
};

// Gradient arrays shaped like the parameters (an MlpGradients).
template <typename T>
void readGradients(const Napi::Value& gradsV, int layers, Pass<T>& pass) {
  if (!gradsV.IsObject()) return refuse("the gradients are not an object");
  Napi::Object g = gradsV.As<Napi::Object>();
  checkFieldsOnce(g, "gradients", abi::gradients::fields, GRADIENTS_CHECKED);
  if (!argumentError.empty()) return;
  Napi::Array gw = g.Get(abi::gradients::weights).As<Napi::Array>(), gb = g.Get(abi::gradients::biases).As<Napi::Array>();
  pass.GW.resize(layers);
  pass.GB.assign(layers, nullptr);
  for (int l = 0; l < layers; l++) {
    pass.GW[l] = dataOf<T>(gw.Get(uint32_t(l)));
    Napi::Value b = gb.Get(uint32_t(l));
    if (b.IsTypedArray()) pass.GB[l] = dataOf<T>(b);
  }
}

// Targets in the model's float type: a Float64Array is copied into `store` for an fp32 model.
template <typename T>
const T* targetsAs(const Napi::Value& targetsV, std::vector<T>& store) {
  Array t = arrayOf(targetsV);
  if (t.isFloat32 == std::is_same<T, float>::value) return static_cast<const T*>(t.data);
  store.resize(t.length);
  if (t.isFloat32) for (size_t i = 0; i < t.length; i++) store[i] = T(static_cast<float*>(t.data)[i]);
  else for (size_t i = 0; i < t.length; i++) store[i] = T(static_cast<double*>(t.data)[i]);
  return store.data();
}

// One lane's scratch and partial sums in twoLayerPass.
template <typename T>
struct Lane {
  std::vector<T> hidden, derivative, signal, gradW, gradWTransposed, effectiveBias;
  std::vector<double> gradA, gradB;
  double loss = 0;
};

// One thread's scratch for a member's forward and backward pass, grown as needed, reused across steps.
template <typename T>
struct Workspace {
  std::vector<T> pre, post, deriv, delta, below, grad;
  // twoLayerPass's: its lanes, m₂a, and Wᵀ (d × m) on few inputs.
  std::vector<Lane<T>> lanes;
  std::vector<T> effectiveA, weightsTransposed;
  std::vector<size_t> offset;
  void fit(const Net<T>& net, int n) {
    offset.assign(net.layers + 1, 0);
    for (int l = 0; l < net.layers; l++) offset[l + 1] = offset[l] + size_t(n) * net.widths[l + 1];
    size_t cap = size_t(n) * *std::max_element(net.widths.begin(), net.widths.end());
    if (pre.size() < offset[net.layers]) { pre.resize(offset[net.layers]); post.resize(offset[net.layers]); deriv.resize(offset[net.layers]); }
    if (delta.size() < cap) { delta.resize(cap); below.resize(cap); }
    size_t outSize = size_t(n) * net.widths[net.layers];
    if (grad.size() < outSize) grad.resize(outSize);
  }
};

// Rows of the hidden layer handled at once by twoLayerPass: a block of about 256 KB stays in cache,
// but at least min(4·d, 256) rows, so that BLAS's repacking of W (m × d) for each block stays small beside the
// block's product (r·m·d) on wide inputs.
inline int blockRows(int m, int d, size_t elementSize) { return std::max({4, std::min(4 * d, 256), int((256 * 1024) / (size_t(std::max(m, 1)) * elementSize))}); }

// A two-layer pass splits its rows into this many lanes when the hidden layer is large, whatever the
// thread count, so the sums (each lane's, then over lanes in order) never depend on the threads.
constexpr int LANES = 4;
inline int lanesFor(int n, int m) { return size_t(n) * m >= 65536 ? LANES : 1; }

// One row of twoLayerLane's fused pass: ∂L/∂a += dᵢ·h, then h ← dᵢ·(m₂a) ⊙ σ'(z) (σ' read off h for
// ReLU and the identity), ∂L/∂b += that. Branch-free and unaliased, so it vectorizes.
template <typename T>
inline void backpropagateRow(bool relu, bool derivativeFromValue, const T di, T* __restrict row, const T* __restrict derivative, const T* __restrict effectiveA, double* __restrict gradA, double* __restrict gradB, int m) {
  if (relu) {
    for (int j = 0; j < m; j++) {
      const T h = row[j];
      gradA[j] += double(di) * double(h);
      row[j] = (di * effectiveA[j]) * T(h > T(0));
    }
  } else if (derivativeFromValue) {
    for (int j = 0; j < m; j++) {
      gradA[j] += double(di) * double(row[j]);
      row[j] = di * effectiveA[j];
    }
  } else {
    for (int j = 0; j < m; j++) {
      gradA[j] += double(di) * double(row[j]);
      row[j] = (di * effectiveA[j]) * derivative[j];
    }
  }
  if (gradB) for (int j = 0; j < m; j++) gradB[j] += double(row[j]);
}

// Σ u_j v_j in one fixed order of partial sums (SIMD lanes, then added), the same on any thread: a
// threaded BLAS may split a product differently with its thread count.
template <typename T>
inline double dot(const T* __restrict u, const T* __restrict v, int m) {
  T sum = 0;
#pragma omp simd reduction(+ : sum)
  for (int j = 0; j < m; j++) sum += u[j] * v[j];
  return sum;
}

// z = m₁·(W x) for one input row of a few dimensions, from Wᵀ (d × m): d passes over the hidden units.
template <typename T>
inline void preActivationRow(const T* __restrict x, const T* __restrict weightsTransposed, double m1, T* __restrict z, int d, int m) {
  for (int j = 0; j < m; j++) z[j] = T(0);
  for (int t = 0; t < d; t++) {
    const T xt = x[t];
    const T* w = weightsTransposed + size_t(t) * m;
    for (int j = 0; j < m; j++) z[j] += xt * w[j];
  }
  const T scale = T(m1);
  if (m1 != 1) for (int j = 0; j < m; j++) z[j] *= scale;
}

// (∂L/∂W)ᵀ += x gᵀ for one row: the signal g over the hidden units times each input coordinate.
template <typename T>
inline void accumulateInputGradient(const T* __restrict g, const T* __restrict x, T* __restrict gradientTransposed, int d, int m) {
  for (int t = 0; t < d; t++) {
    const T xt = x[t];
    T* out = gradientTransposed + size_t(t) * m;
    for (int j = 0; j < m; j++) out[j] += g[j] * xt;
  }
}

// Calls f with std::integral_constant<int, d> for d = 1 … SMALL_INPUT, so the loops below unroll over inputs.
template <typename F>
void withInputSize(int d, F f) {
  switch (d) {
    case 1: f(std::integral_constant<int, 1>()); break;
    case 2: f(std::integral_constant<int, 2>()); break;
    case 3: f(std::integral_constant<int, 3>()); break;
    case 4: f(std::integral_constant<int, 4>()); break;
    case 5: f(std::integral_constant<int, 5>()); break;
    case 6: f(std::integral_constant<int, 6>()); break;
    case 7: f(std::integral_constant<int, 7>()); break;
    default: f(std::integral_constant<int, 8>()); break;
  }
}

// One row's forward in one pass over the hidden units (ReLU, or the identity): h = σ(m₁·Wx + m₁b),
// stored, and returned Σ_j h_j a_j.
template <typename T, int D>
inline double forwardSmallRow(const T* __restrict x, const T* __restrict weightsTransposed, const T* __restrict effectiveBias, const T m1, const T* __restrict a, T* __restrict row, int m, bool relu) {
  T xs[D];
  for (int t = 0; t < D; t++) xs[t] = x[t];
  T sum = 0;
  if (relu) {
#pragma omp simd reduction(+ : sum)
    for (int j = 0; j < m; j++) {
      T z = 0;
      for (int t = 0; t < D; t++) z += xs[t] * weightsTransposed[size_t(t) * m + j];
      z = z * m1 + effectiveBias[j];
      const T h = T(z > T(0)) * z;
      row[j] = h;
      sum += h * a[j];
    }
  } else {
#pragma omp simd reduction(+ : sum)
    for (int j = 0; j < m; j++) {
      T z = 0;
      for (int t = 0; t < D; t++) z += xs[t] * weightsTransposed[size_t(t) * m + j];
      z = z * m1 + effectiveBias[j];
      row[j] = z;
      sum += z * a[j];
    }
  }
  return sum;
}

// One row's backward in one pass: ∂L/∂a += dᵢ h, the signal g = dᵢ (m₂a) ⊙ σ'(z), ∂L/∂b += g, (∂L/∂W)ᵀ += x gᵀ.
template <typename T, int D>
inline void backwardSmallRow(const T di, const T* __restrict row, const T* __restrict effectiveA, const T* __restrict x, double* __restrict gradA, double* __restrict gradB, T* __restrict gradWTransposed, int m, int stride, bool relu) {
  T xs[D];
  for (int t = 0; t < D; t++) xs[t] = x[t];
#pragma omp simd
  for (int j = 0; j < m; j++) {
    const T h = row[j];
    gradA[j] += double(di) * double(h);
    const T g = relu ? (di * effectiveA[j]) * T(h > T(0)) : di * effectiveA[j];
    gradB[j] += double(g);
    for (int t = 0; t < D; t++) gradWTransposed[size_t(t) * stride + j] += g * xs[t];
  }
}

// The backward of a block of r rows by tiles of hidden units: each tile's sums over the rows stay in
// registers and reach memory once per block (a row at a time, every accumulator would be loaded and
// stored at every row). A last partial tile goes row by row.
constexpr int TILE = 8;
template <typename T, int D, bool RELU>
void backwardSmallTiles(const T scale, const T* raw, int r, const T* hidden, const T* effectiveA, const T* x, double* gradA, double* gradB, T* gradWTransposed, int m) {
  const int tiled = m - m % TILE;
  for (int j0 = 0; j0 < tiled; j0 += TILE) {
    double a[TILE] = {}, b[TILE] = {};
    T w[D][TILE] = {};
    T ea[TILE];
    for (int jj = 0; jj < TILE; jj++) ea[jj] = effectiveA[j0 + jj];
    for (int i = 0; i < r; i++) {
      const T di = scale * raw[i];
      const T* h = hidden + size_t(i) * m + j0;
      const T* xi = x + size_t(i) * D;
      T g[TILE];
#pragma omp simd
      for (int jj = 0; jj < TILE; jj++) {
        const T hv = h[jj];
        a[jj] += double(di) * double(hv);
        if constexpr (RELU) g[jj] = (di * ea[jj]) * T(hv > T(0));
        else g[jj] = di * ea[jj];
        b[jj] += double(g[jj]);
      }
      for (int t = 0; t < D; t++) {
        const T xt = xi[t];
#pragma omp simd
        for (int jj = 0; jj < TILE; jj++) w[t][jj] += g[jj] * xt;
      }
    }
    for (int jj = 0; jj < TILE; jj++) {
      gradA[j0 + jj] += a[jj];
      gradB[j0 + jj] += b[jj];
      for (int t = 0; t < D; t++) gradWTransposed[size_t(t) * m + j0 + jj] += w[t][jj];
    }
  }
  if (tiled == m) return;
  for (int i = 0; i < r; i++)
    backwardSmallRow<T, D>(scale * raw[i], hidden + size_t(i) * m + tiled, effectiveA + tiled, x + size_t(i) * D, gradA + tiled, gradB + tiled, gradWTransposed + tiled, m - tiled, m, RELU);
}

template <typename T, int D>
void backwardSmallBlock(const T scale, const T* raw, int r, const T* hidden, const T* effectiveA, const T* x, double* gradA, double* gradB, T* gradWTransposed, int m, bool relu) {
  if (relu) backwardSmallTiles<T, D, true>(scale, raw, r, hidden, effectiveA, x, gradA, gradB, gradWTransposed, m);
  else backwardSmallTiles<T, D, false>(scale, raw, r, hidden, effectiveA, x, gradA, gradB, gradWTransposed, m);
}

// Inputs of at most this many dimensions skip BLAS in twoLayerLane: a product with inner size d ≤ 8
// costs more in BLAS's packing and call than in plain loops over the hidden units (which vectorize).
constexpr int SMALL_INPUT = 8;

// Rows [from, to) of member k in twoLayerPass, by blocks: Z = XWᵀ (BLAS, or plain loops from Wᵀ on
// few inputs), bias and activation in place, f = α·m₂·H a, the loss's gradient g on those rows, then
// one fused pass that accumulates ∂L/∂a and overwrites H with the signal G = α g (m₂ a)ᵀ ⊙ σ'(Z), and
// ∂L/∂W += m₁ GᵀX. ReLU or the identity on few inputs: each row's forward and backward in one pass.
template <typename T>
void twoLayerLane(const Net<T>& net, const Pass<T>& p, int k, const T* effectiveA, const T* weightsTransposed, int from, int to, Lane<T>& lane) {
  const int n = p.n, d = net.widths[0], m = net.widths[1];
  const double m1 = net.multipliers[0], m2 = net.multipliers[1], scale = net.outputScale[k];
  const T* W = net.W[0] + size_t(k) * m * d;
  const T* b = net.B[0] ? net.B[0] + size_t(k) * m : nullptr;
  const T* a = net.W[1] + size_t(k) * m;
  const bool withLoss = p.loss != NO_LOSS;
  // ReLU and the identity read σ' off the activation itself; the others keep it apart.
  const bool derivativeFromValue = net.kind == RELU || net.kind == LINEAR;
  const bool relu = net.kind == RELU;
  const int rows = std::max(1, std::min(to - from, blockRows(m, d, sizeof(T))));
  if (lane.hidden.size() < size_t(rows) * m) lane.hidden.resize(size_t(rows) * m);
  if (!derivativeFromValue && lane.derivative.size() < size_t(rows) * m) lane.derivative.resize(size_t(rows) * m);
  if (lane.signal.size() < size_t(rows)) lane.signal.resize(rows);
  lane.gradA.assign(m, 0.0);
  lane.gradB.assign(m, 0.0);
  const bool smallInput = weightsTransposed != nullptr;
  if (withLoss) lane.gradW.assign(size_t(m) * d, T(0));
  if (withLoss && smallInput) lane.gradWTransposed.assign(size_t(d) * m, T(0));
  lane.loss = 0;
  T* H = lane.hidden.data();
  T* D = derivativeFromValue ? nullptr : lane.derivative.data();
  T* raw = lane.signal.data();
  T* out = p.outputs + size_t(k) * n;
  const T* off = p.offsets ? p.offsets + size_t(k) * n : nullptr;
  // ReLU or the identity on a few input dimensions: each row's forward and backward in one pass each.
  const bool fused = smallInput && derivativeFromValue;
  if (fused) {
    lane.effectiveBias.assign(m, T(0));
    if (b) for (int j = 0; j < m; j++) lane.effectiveBias[j] = T(m1 * b[j]);
  }
  for (int first = from; first < to; first += rows) {
    const int r = std::min(rows, to - first);
    const T* x = p.X + size_t(first) * d;
    if (fused) {
      withInputSize(d, [&](auto inputs) {
        for (int i = 0; i < r; i++) raw[i] = T(m2 * forwardSmallRow<T, decltype(inputs)::value>(x + size_t(i) * d, weightsTransposed, lane.effectiveBias.data(), T(m1), a, H + size_t(i) * m, m, relu));
      });
    } else {
      if (smallInput) {
        for (int i = 0; i < r; i++) preActivationRow<T>(x + size_t(i) * d, weightsTransposed, m1, H + size_t(i) * m, d, m);
      } else {
        gemmT(false, true, r, m, d, m1, x, W, 0.0, H);
      }
      for (int i = 0; i < r; i++) {
        T* row = H + size_t(i) * m;
        if (b) for (int j = 0; j < m; j++) row[j] += T(m1 * b[j]);
        activate(net.kind, net.leak, row, row, D ? D + size_t(i) * m : nullptr, size_t(m));
      }
      for (int i = 0; i < r; i++) raw[i] = T(m2 * dot<T>(H + size_t(i) * m, a, m));
    }
    for (int i = 0; i < r; i++) out[first + i] = T(scale * raw[i] - (off ? double(off[first + i]) : 0.0));
    if (!withLoss) continue;
    lane.loss += lossSum<T>(p.loss, out + first, p.targets + first, r, 1, raw, n);
    if (fused) {
      withInputSize(d, [&](auto inputs) {
        backwardSmallBlock<T, decltype(inputs)::value>(T(scale), raw, r, H, effectiveA, x, lane.gradA.data(), lane.gradB.data(), lane.gradWTransposed.data(), m, relu);
      });
      continue;
    }
    for (int i = 0; i < r; i++) backpropagateRow<T>(relu, derivativeFromValue, T(scale * raw[i]), H + size_t(i) * m, D ? D + size_t(i) * m : nullptr, effectiveA, lane.gradA.data(), b ? lane.gradB.data() : nullptr, m);
    if (smallInput) {
      T* gt = lane.gradWTransposed.data();
      for (int i = 0; i < r; i++) accumulateInputGradient<T>(H + size_t(i) * m, x + size_t(i) * d, gt, d, m);
    } else {
      gemmT(true, false, m, d, r, m1, H, x, 1.0, lane.gradW.data());
    }
  }
  if (withLoss && smallInput)
    for (int j = 0; j < m; j++)
      for (int t = 0; t < d; t++) lane.gradW[size_t(j) * d + t] = T(m1 * lane.gradWTransposed[size_t(t) * m + j]);
}

// The common case, a two-layer net with one output: its rows in lanes (in parallel where `threads` > 1),
// then the lanes' sums added in lane order. The quantities of the general path; the n × m hidden
// layer never leaves the cache.
template <typename T>
void twoLayerPass(const Net<T>& net, const Pass<T>& p, int k, Workspace<T>& ws, int threads) {
  const int n = p.n, d = net.widths[0], m = net.widths[1];
  const double m1 = net.multipliers[0], m2 = net.multipliers[1];
  const int lanes = lanesFor(n, m);
  if (ws.lanes.size() < size_t(lanes)) ws.lanes.resize(lanes);
  ws.effectiveA.resize(m);
  T* effectiveA = ws.effectiveA.data();
  const T* a = net.W[1] + size_t(k) * m;
  for (int j = 0; j < m; j++) effectiveA[j] = T(m2 * a[j]);
  const T* weightsTransposed = nullptr;
  if (d <= SMALL_INPUT) {
    const T* W = net.W[0] + size_t(k) * m * d;
    ws.weightsTransposed.resize(size_t(m) * d);
    for (int j = 0; j < m; j++) for (int t = 0; t < d; t++) ws.weightsTransposed[size_t(t) * m + j] = W[size_t(j) * d + t];
    weightsTransposed = ws.weightsTransposed.data();
  }
  auto lane = [&](int l) { twoLayerLane(net, p, k, effectiveA, weightsTransposed, int(size_t(n) * l / lanes), int(size_t(n) * (l + 1) / lanes), ws.lanes[l]); };
  if (threads > 1 && lanes > 1) lanePool(std::min(threads, lanes)).run(lanes, lane);
  else for (int l = 0; l < lanes; l++) lane(l);
  if (p.loss == NO_LOSS) return;
  double loss = 0;
  for (int l = 0; l < lanes; l++) loss += ws.lanes[l].loss;
  p.losses[k] = loss / n;
  T* gw = p.GW[0] + size_t(k) * m * d;
  T* ga = p.GW[1] + size_t(k) * m;
  T* gb = p.GB[0] ? p.GB[0] + size_t(k) * m : nullptr;
  for (size_t i = 0; i < size_t(m) * d; i++) {
    T sum = ws.lanes[0].gradW[i];
    for (int l = 1; l < lanes; l++) sum += ws.lanes[l].gradW[i];
    gw[i] = sum;
  }
  for (int j = 0; j < m; j++) {
    double sa = 0, sb = 0;
    for (int l = 0; l < lanes; l++) { sa += ws.lanes[l].gradA[j]; if (gb) sb += ws.lanes[l].gradB[j]; }
    ga[j] = T(m2 * sa);
    if (gb) gb[j] = T(m1 * sb);
  }
}

// Member k's outputs on the pass's rows and, with a loss, its mean loss and gradients.
template <typename T>
void memberPass(const Net<T>& net, const Pass<T>& p, int k, Workspace<T>& ws, int threads = 1) {
  const int layers = net.layers, n = p.n, outW = net.widths[layers];
  if (layers == 2 && outW == 1 && !net.B[1]) return twoLayerPass(net, p, k, ws, threads);
  ws.fit(net, n);
  const T* input = p.X;
  for (int l = 0; l < layers; l++) {
    int fanIn = net.widths[l], fanOut = net.widths[l + 1];
    const T* w = net.W[l] + size_t(k) * fanOut * fanIn;
    T* z = ws.pre.data() + ws.offset[l];
    gemmT(false, true, n, fanOut, fanIn, net.multipliers[l], input, w, 0.0, z);
    if (net.B[l]) {
      const T* b = net.B[l] + size_t(k) * fanOut;
      double m = net.multipliers[l];
      for (int i = 0; i < n; i++) for (int j = 0; j < fanOut; j++) z[size_t(i) * fanOut + j] += T(m * b[j]);
    }
    if (l < layers - 1) {
      activate(net.kind, net.leak, z, ws.post.data() + ws.offset[l], ws.deriv.data() + ws.offset[l], size_t(n) * fanOut);
      input = ws.post.data() + ws.offset[l];
    }
  }
  double scale = net.outputScale[k];
  T* out = p.outputs + size_t(k) * n * outW;
  const T* last = ws.pre.data() + ws.offset[layers - 1];
  const T* off = p.offsets ? p.offsets + size_t(k) * n * outW : nullptr;
  for (size_t i = 0; i < size_t(n) * outW; i++) out[i] = T(scale * last[i] - (off ? double(off[i]) : 0.0));
  if (p.loss == NO_LOSS) return;
  p.losses[k] = lossAndGradient<T>(p.loss, out, p.targets, n, outW, ws.grad.data());
  T* d = ws.delta.data();
  for (size_t i = 0; i < size_t(n) * outW; i++) d[i] = T(scale * ws.grad[i]);
  for (int l = layers - 1; l >= 0; l--) {
    int fanIn = net.widths[l], fanOut = net.widths[l + 1];
    double m = net.multipliers[l];
    const T* layerInput = l == 0 ? p.X : ws.post.data() + ws.offset[l - 1];
    T* gw = p.GW[l] + size_t(k) * fanOut * fanIn;
    gemmT(true, false, fanOut, fanIn, n, m, d, layerInput, 0.0, gw);
    if (p.GB[l]) {
      T* gb = p.GB[l] + size_t(k) * fanOut;
      for (int j = 0; j < fanOut; j++) gb[j] = 0;
      for (int i = 0; i < n; i++) for (int j = 0; j < fanOut; j++) gb[j] += T(m * d[size_t(i) * fanOut + j]);
    }
    if (l > 0) {
      const T* w = net.W[l] + size_t(k) * fanOut * fanIn;
      T* bl = ws.below.data();
      gemmT(false, false, n, fanIn, fanOut, m, d, w, 0.0, bl);
      const T* dv = ws.deriv.data() + ws.offset[l - 1];
      for (size_t i = 0; i < size_t(n) * fanIn; i++) bl[i] *= dv[i];
      std::swap(ws.delta, ws.below);
      d = ws.delta.data();
    }
  }
}

// An evaluation's rows, f₀ offsets and active members (an MlpEvaluation, checked by parameterType).
template <typename T>
const uint8_t* readEvaluation(const Napi::Object& ev, Pass<T>& pass, const T*& offsets) {
  pass.X = dataOf<T>(ev.Get(abi::evaluation::inputs));
  pass.n = ev.Get(abi::evaluation::n).As<Napi::Number>().Int32Value();
  Napi::Value offsetsV = ev.Get(abi::evaluation::offsets);
  offsets = offsetsV.IsTypedArray() ? dataOf<T>(offsetsV) : nullptr;
  Napi::Value activeV = ev.Get(abi::evaluation::active);
  return activeV.IsTypedArray() ? activeV.As<Napi::Uint8Array>().Data() : nullptr;
}

// Checks a call's batch and evaluation against native/abi.json (throwing when refused) and tells the
// parameters' float type: 1 float32, 0 float64, -1 refused.
int parameterType(const Napi::Env& env, const char* call, const Napi::Value& batchV, const Napi::Value& evV) {
  if (!batchV.IsObject()) refuse("the batch is not an object");
  else checkFieldsOnce(batchV.As<Napi::Object>(), "batch", abi::batch::fields, BATCH_CHECKED);
  if (!evV.IsUndefined()) {
    if (!evV.IsObject()) refuse("the evaluation is not an object");
    else checkFieldsOnce(evV.As<Napi::Object>(), "evaluation", abi::evaluation::fields, EVALUATION_CHECKED);
  }
  if (argumentsRefused(env, call)) return -1;
  Napi::Array weights = batchV.As<Napi::Object>().Get(abi::batch::weights).As<Napi::Array>();
  Array first = arrayOf(weights.Get(uint32_t(0)));
  if (!first.valid) return fail(env, std::string(call) + ": batch.weights[0] is not a float array") ? 0 : -1;
  return first.isFloat32 ? 1 : 0;
}

// One pass over every active member: forward, and with a loss also the loss and the gradients.
template <typename T>
bool mlpRun(const Napi::Env& env, const Napi::Object& batch, const Napi::Object& ev, int loss, const Napi::Value& targetsV, const Napi::Value& outputsV, const Napi::Value& lossesV, const Napi::Value& gradsV) {
  Net<T> net = netOf<T>(batch);
  Pass<T> pass;
  const uint8_t* active = readEvaluation(ev, pass, pass.offsets);
  pass.outputs = dataOf<T>(outputsV);
  pass.loss = loss;
  std::vector<T> targetStore;
  if (loss != NO_LOSS) {
    pass.targets = targetsAs<T>(targetsV, targetStore);
    pass.losses = static_cast<double*>(arrayOf(lossesV).data);
    readGradients(gradsV, net.layers, pass);
  }
  if (argumentsRefused(env, "mlp")) return false;
  static thread_local Workspace<T> ws;
  for (int k = 0; k < net.K; k++)
    if (!active || active[k]) memberPass(net, pass, k, ws);
  return true;
}

Napi::Value MlpRun(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  int type = parameterType(env, "mlp", info[0], info[1]);
  if (type < 0) return env.Undefined();
  Napi::Object batch = info[0].As<Napi::Object>();
  Napi::Object ev = info[1].As<Napi::Object>();
  int loss = lossOf(info[2]);
  if (type == 1) mlpRun<float>(env, batch, ev, loss, info[3], info[4], info[5], info[6]);
  else mlpRun<double>(env, batch, ev, loss, info[3], info[4], info[5], info[6]);
  return env.Undefined();
}

// J Jᵀ of member k of a two-layer net over n rows, without forming J (MlpEnsemble.ntkGram's formula):
// K[(i,c),(i',c')] = α² (m₂² δ_cc' (HHᵀ)_ii' + m₁² (XXᵀ + b)_ii' Σ_j A_cj A_c'j D_ij D_i'j), with the
// symmetric products by syrk (one triangle) and the output-weighted slopes D ⊙ A_c formed in one pass.
template <typename T>
void twoLayerNtkGram(const Net<T>& net, int k, const std::vector<double>& x, int n, bool trainFirst, bool trainSecond, double* gram) {
  const int d = net.widths[0], m = net.widths[1], outputs = net.widths[2], rows = n * outputs;
  const double m1 = net.multipliers[0], m2 = net.multipliers[1], alpha2 = net.outputScale[k] * net.outputScale[k];
  // Scratch reused across calls (first touches of fresh pages cost as much as the products here).
  static thread_local std::vector<double> w, hidden, slopes, weighted, block, xx;
  w.resize(size_t(m) * d);
  hidden.resize(size_t(n) * m);
  slopes.resize(size_t(n) * m);
  weighted.resize(size_t(outputs) * n * m);
  block.resize(size_t(n) * n);
  xx.resize(size_t(n) * n);
  const T* W = net.W[0] + size_t(k) * m * d;
  for (size_t i = 0; i < w.size(); i++) w[i] = W[i];
  gemmT(false, true, n, m, d, m1, x.data(), w.data(), 0.0, hidden.data());
  if (net.B[0]) {
    const T* b = net.B[0] + size_t(k) * m;
    for (int i = 0; i < n; i++) for (int j = 0; j < m; j++) hidden[size_t(i) * m + j] += m1 * double(b[j]);
  }
  activate(net.kind, net.leak, hidden.data(), hidden.data(), slopes.data(), hidden.size());
  const double bias = net.B[0] ? 1.0 : 0.0;
  if (trainFirst) {
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, n, d, 1.0, x.data(), d, 0.0, xx.data(), n);
    const T* A = net.W[1] + size_t(k) * outputs * m;
    for (int c = 0; c < outputs; c++)
      for (int i = 0; i < n; i++)
        for (int j = 0; j < m; j++) weighted[(size_t(c) * n + i) * m + j] = slopes[size_t(i) * m + j] * (m2 * double(A[size_t(c) * m + j]));
  }
  if (outputs == 1) {
    // One output: the upper triangle of α²m₂² HHᵀ, plus α²m₁² (XXᵀ + b) ⊙ (D ⊙ a)(D ⊙ a)ᵀ, then mirrored.
    if (trainSecond) cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, n, m, alpha2 * m2 * m2, hidden.data(), m, 0.0, gram, n);
    if (trainFirst) {
      cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, n, m, alpha2 * m1 * m1, weighted.data(), m, 0.0, block.data(), n);
      for (int i = 0; i < n; i++)
        for (int j = i; j < n; j++) gram[size_t(i) * n + j] += block[size_t(i) * n + j] * (xx[size_t(i) * n + j] + bias);
    }
    for (int i = 0; i < n; i++)
      for (int j = i + 1; j < n; j++) gram[size_t(j) * n + i] = gram[size_t(i) * n + j];
    return;
  }
  const auto upper = [](const std::vector<double>& a, int size, int i, int j) { return i <= j ? a[size_t(i) * size + j] : a[size_t(j) * size + i]; };
  if (trainSecond) {
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, n, m, alpha2 * m2 * m2, hidden.data(), m, 0.0, block.data(), n);
    for (int c = 0; c < outputs; c++)
      for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) gram[size_t(i * outputs + c) * rows + j * outputs + c] += upper(block, n, i, j);
  }
  if (!trainFirst) return;
  for (int c = 0; c < outputs; c++)
    for (int c2 = c; c2 < outputs; c2++) {
      const double* u = weighted.data() + size_t(c) * n * m;
      const double* v = weighted.data() + size_t(c2) * n * m;
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, n, m, alpha2 * m1 * m1, u, m, v, m, 0.0, block.data(), n);
      for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
          const double value = block[size_t(i) * n + j] * (upper(xx, n, i, j) + bias);
          gram[size_t(i * outputs + c) * rows + j * outputs + c2] += value;
          if (c != c2) gram[size_t(j * outputs + c2) * rows + i * outputs + c] += value;
        }
    }
}

Napi::Value MlpNtkGram(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  int type = parameterType(env, "mlpNtkGram", info[0], env.Undefined());
  if (type < 0) return env.Undefined();
  Napi::Object batch = info[0].As<Napi::Object>();
  int k = info[1].As<Napi::Number>().Int32Value();
  Array inputs = arrayOf(info[2]);
  int n = info[3].As<Napi::Number>().Int32Value();
  bool trainFirst = info[4].As<Napi::Boolean>(), trainSecond = info[5].As<Napi::Boolean>();
  if (!inputs.valid) { fail(env, "mlpNtkGram: the inputs must be a float array"); return env.Undefined(); }
  Napi::Array widths = batch.Get(abi::batch::widths).As<Napi::Array>();
  if (widths.Length() != 3) { fail(env, "mlpNtkGram: needs a two-layer net"); return env.Undefined(); }
  std::vector<double> x = toDoubles(inputs);
  if (x.size() < size_t(n) * widths.Get(uint32_t(0)).As<Napi::Number>().Int32Value()) { fail(env, "mlpNtkGram: inputs shorter than n rows"); return env.Undefined(); }
  size_t rows = size_t(n) * widths.Get(uint32_t(2)).As<Napi::Number>().Int32Value();
  // A fresh Float64Array starts at zero, as the sums below need.
  auto out = Napi::Float64Array::New(env, rows * rows);
  auto gram = [&](auto tag) {
    using T = decltype(tag);
    Net<T> net = netOf<T>(batch);
    if (!argumentsRefused(env, "mlpNtkGram")) twoLayerNtkGram(net, k, x, n, trainFirst, trainSecond, out.Data());
  };
  if (type == 1) gram(float());
  else gram(double());
  return out;
}

}  // namespace
