// Activations (value and derivative in one pass) and per-sample losses with their gradient, in the order of native/abi.json's codes.
#pragma once

#include <cmath>
#include <cstddef>
#include "abi.generated.h"

namespace {

// Activation and loss codes come from native/abi.json (abi.generated.h); a forward pass has no loss.
using abi::ActivationKind;
using abi::LossKind;
using abi::LINEAR, abi::RELU, abi::LEAKY_RELU, abi::SIGMOID, abi::TANH, abi::SWISH, abi::GELU;
using abi::LOGISTIC, abi::SQUARE, abi::CROSS_ENTROPY;
constexpr int NO_LOSS = -1;

inline double sigmoid(double z) { return z >= 0 ? 1 / (1 + std::exp(-z)) : std::exp(z) / (1 + std::exp(z)); }
inline double softplus(double z) { return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z)); }

// value = σ(pre) and, where derivative is not null, σ'(pre); one loop per activation so each vectorizes
// where it can (pre and value may be the same array).
template <typename T, typename F>
void mapActivation(const T* pre, T* value, T* derivative, size_t length, F f) {
  if (derivative) {
    for (size_t i = 0; i < length; i++) { double v, d; f(double(pre[i]), v, d); value[i] = T(v); derivative[i] = T(d); }
  } else {
    for (size_t i = 0; i < length; i++) { double v, d; f(double(pre[i]), v, d); value[i] = T(v); }
  }
}

template <typename T>
void activate(int kind, double leak, const T* pre, T* value, T* derivative, size_t length) {
  switch (kind) {
    case LINEAR: mapActivation(pre, value, derivative, length, [](double z, double& v, double& d) { v = z; d = 1; }); break;
    // As the ts backend: without branches (a non-finite pre-activation gives NaN, not 0).
    case RELU: mapActivation(pre, value, derivative, length, [](double z, double& v, double& d) { double on = z > 0; v = on * z; d = on; }); break;
    case LEAKY_RELU: mapActivation(pre, value, derivative, length, [leak](double z, double& v, double& d) { v = z > 0 ? z : leak * z; d = z > 0 ? 1 : leak; }); break;
    case SIGMOID: mapActivation(pre, value, derivative, length, [](double z, double& v, double& d) { double s = sigmoid(z); v = s; d = s * (1 - s); }); break;
    case TANH: mapActivation(pre, value, derivative, length, [](double z, double& v, double& d) { double t = std::tanh(z); v = t; d = 1 - t * t; }); break;
    case SWISH: mapActivation(pre, value, derivative, length, [](double z, double& v, double& d) { double s = sigmoid(z); v = z * s; d = s + z * s * (1 - s); }); break;
    default:  // GELU, exact: z·Φ(z)
      mapActivation(pre, value, derivative, length, [](double z, double& v, double& d) {
        double cdf = 0.5 * (1 + std::erf(z * M_SQRT1_2));
        v = z * cdf;
        d = cdf + z * std::exp(-0.5 * z * z) * (0.5 * M_2_SQRTPI * M_SQRT1_2);
      });
  }
}

// The loss summed over n rows, its gradient divided by `divisor` (the number of rows the mean is over).
template <typename T>
double lossSum(int kind, const T* out, const T* targets, int n, int width, T* gradient, int divisor) {
  double total = 0;
  if (kind == LOGISTIC) {
    for (int i = 0; i < n; i++) {
      double margin = double(targets[i]) * out[i];
      total += softplus(-margin);
      gradient[i] = T(-double(targets[i]) * sigmoid(-margin) / divisor);
    }
  } else if (kind == SQUARE) {
    for (int i = 0; i < n * width; i++) {
      double r = double(out[i]) - double(targets[i]);
      total += 0.5 * r * r;
      gradient[i] = T(r / divisor);
    }
  } else {
    for (int i = 0; i < n; i++) {
      const T* row = out + size_t(i) * width;
      double mx = -INFINITY;
      for (int c = 0; c < width; c++) mx = std::max(mx, double(row[c]));
      double sum = 0;
      for (int c = 0; c < width; c++) sum += std::exp(double(row[c]) - mx);
      int label = int(targets[i]);
      total += mx + std::log(sum) - row[label];
      for (int c = 0; c < width; c++) gradient[size_t(i) * width + c] = T((std::exp(double(row[c]) - mx) / sum - (c == label ? 1 : 0)) / divisor);
    }
  }
  return total;
}

template <typename T>
double lossAndGradient(int kind, const T* out, const T* targets, int n, int width, T* gradient) {
  return lossSum(kind, out, targets, n, width, gradient, n) / n;
}

}  // namespace
