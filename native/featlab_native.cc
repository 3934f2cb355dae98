// featlab's native backend: OpenBLAS/LAPACK for the linear algebra and one fused call per training
// step for the forward and backward pass of every member of an ensemble. Works in place on the
// caller's typed arrays (Float64Array or Float32Array); mirrors src/linalg/tsBackend.ts.
#include <napi.h>
#include <cblas.h>
#include <lapacke.h>

#include "abi.generated.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <thread>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <chrono>
#include <vector>

extern "C" {
void openblas_set_num_threads(int);
int openblas_get_num_threads(void);
char* openblas_get_config(void);
}

namespace {

struct Array {
  void* data = nullptr;
  size_t length = 0;
  bool isFloat32 = false;
  bool valid = false;
};

Array arrayOf(const Napi::Value& v) {
  Array a;
  if (!v.IsTypedArray()) return a;
  auto t = v.As<Napi::TypedArray>();
  if (t.TypedArrayType() == napi_float64_array) {
    auto f = t.As<Napi::Float64Array>();
    a.data = f.Data();
    a.length = f.ElementLength();
  } else if (t.TypedArrayType() == napi_float32_array) {
    auto f = t.As<Napi::Float32Array>();
    a.data = f.Data();
    a.length = f.ElementLength();
    a.isFloat32 = true;
  } else {
    return a;
  }
  a.valid = true;
  return a;
}

bool fail(const Napi::Env& env, const std::string& message) {
  Napi::Error::New(env, message).ThrowAsJavaScriptException();
  return false;
}

std::vector<double> toDoubles(const Array& a) {
  std::vector<double> out(a.length);
  if (a.isFloat32) {
    const float* p = static_cast<const float*>(a.data);
    for (size_t i = 0; i < a.length; i++) out[i] = p[i];
  } else {
    std::memcpy(out.data(), a.data, a.length * sizeof(double));
  }
  return out;
}

Napi::Float64Array fromDoubles(const Napi::Env& env, const std::vector<double>& v) {
  auto out = Napi::Float64Array::New(env, v.size());
  std::memcpy(out.Data(), v.data(), v.size() * sizeof(double));
  return out;
}

void gemmT(bool ta, bool tb, int m, int n, int k, double alpha, const double* a, const double* b, double beta, double* c) {
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, ta ? m : k, b, tb ? k : n, beta, c, n);
}
void gemmT(bool ta, bool tb, int m, int n, int k, double alpha, const float* a, const float* b, double beta, float* c) {
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, static_cast<float>(alpha), a, ta ? m : k, b, tb ? k : n, static_cast<float>(beta), c, n);
}

Napi::Value Gemm(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  bool ta = info[0].As<Napi::Boolean>();
  bool tb = info[1].As<Napi::Boolean>();
  int m = info[2].As<Napi::Number>().Int32Value();
  int n = info[3].As<Napi::Number>().Int32Value();
  int k = info[4].As<Napi::Number>().Int32Value();
  double alpha = info[5].As<Napi::Number>().DoubleValue();
  Array a = arrayOf(info[6]), b = arrayOf(info[7]), c = arrayOf(info[9]);
  double beta = info[8].As<Napi::Number>().DoubleValue();
  if (!a.valid || !b.valid || !c.valid || a.isFloat32 != b.isFloat32 || a.isFloat32 != c.isFloat32) {
    fail(env, "gemm: a, b and c must be typed arrays of one float type");
    return env.Undefined();
  }
  if (a.length < size_t(m) * k || b.length < size_t(k) * n || c.length < size_t(m) * n) {
    fail(env, "gemm: an array is shorter than its shape");
    return env.Undefined();
  }
  if (m == 0 || n == 0) return env.Undefined();
  if (k == 0) {
    // BLAS leaves c untouched when k = 0 only if beta = 1; scale as the reference backend does.
    if (a.isFloat32) { float* p = static_cast<float*>(c.data); for (size_t i = 0; i < size_t(m) * n; i++) p[i] = beta == 0 ? 0.f : p[i] * float(beta); }
    else { double* p = static_cast<double*>(c.data); for (size_t i = 0; i < size_t(m) * n; i++) p[i] = beta == 0 ? 0.0 : p[i] * beta; }
    return env.Undefined();
  }
  if (beta == 0) {
    // BLAS with beta = 0 ignores c's contents (NaN included), as the reference does.
    std::memset(c.data, 0, size_t(m) * n * (a.isFloat32 ? sizeof(float) : sizeof(double)));
  }
  if (a.isFloat32) gemmT(ta, tb, m, n, k, alpha, static_cast<float*>(a.data), static_cast<float*>(b.data), beta, static_cast<float*>(c.data));
  else gemmT(ta, tb, m, n, k, alpha, static_cast<double*>(a.data), static_cast<double*>(b.data), beta, static_cast<double*>(c.data));
  return env.Undefined();
}

Napi::Value Gram(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  Array a = arrayOf(info[0]);
  int rows = info[1].As<Napi::Number>().Int32Value();
  int cols = info[2].As<Napi::Number>().Int32Value();
  Array out = arrayOf(info[3]);
  if (!a.valid || !out.valid || a.isFloat32 != out.isFloat32) { fail(env, "gram: typed arrays of one float type"); return env.Undefined(); }
  if (rows == 0) return env.Undefined();
  if (a.isFloat32) {
    float* o = static_cast<float*>(out.data);
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, rows, cols, 1.f, static_cast<float*>(a.data), cols, 0.f, o, rows);
    for (int i = 0; i < rows; i++) for (int j = 0; j < i; j++) o[i * rows + j] = o[j * rows + i];
  } else {
    double* o = static_cast<double*>(out.data);
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, rows, cols, 1.0, static_cast<double*>(a.data), cols, 0.0, o, rows);
    for (int i = 0; i < rows; i++) for (int j = 0; j < i; j++) o[i * rows + j] = o[j * rows + i];
  }
  return env.Undefined();
}

// Eigenvalues (ascending) of a symmetric matrix and, with vectors, its eigenvectors as columns.
Napi::Value symmetricEigenOf(const Napi::CallbackInfo& info, bool vectors) {
  auto env = info.Env();
  const char* name = vectors ? "symmetricEigen" : "symmetricEigenvalues";
  Array a = arrayOf(info[0]);
  int n = info[1].As<Napi::Number>().Int32Value();
  if (!a.valid) { fail(env, std::string(name) + ": a typed array"); return env.Undefined(); }
  std::vector<double> m = toDoubles(a);
  std::vector<double> w(n);
  if (n > 0) {
    // Without vectors: a symmetric matrix is its own transpose, so read it column-major (its lower
    // triangle is the row-major upper one), which spares LAPACKE a transposed copy.
    int status = vectors ? LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', n, m.data(), n, w.data()) : LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'N', 'L', n, m.data(), n, w.data());
    if (status != 0) { fail(env, std::string(name) + ": LAPACK dsyevd did not converge (info " + std::to_string(status) + ")"); return env.Undefined(); }
  }
  if (!vectors) return fromDoubles(env, w);
  auto result = Napi::Object::New(env);
  result.Set("values", fromDoubles(env, w));
  result.Set("vectors", fromDoubles(env, m));
  return result;
}

Napi::Value SymmetricEigen(const Napi::CallbackInfo& info) { return symmetricEigenOf(info, true); }
Napi::Value SymmetricEigenvalues(const Napi::CallbackInfo& info) { return symmetricEigenOf(info, false); }

Napi::Value SingularValues(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  Array a = arrayOf(info[0]);
  int rows = info[1].As<Napi::Number>().Int32Value();
  int cols = info[2].As<Napi::Number>().Int32Value();
  if (!a.valid) { fail(env, "singularValues: a typed array"); return env.Undefined(); }
  int k = std::min(rows, cols);
  std::vector<double> s(k);
  if (k > 0) {
    std::vector<double> m = toDoubles(a);
    // U and Vt are not referenced with jobz 'N', but LAPACKE checks their leading dimensions.
    int status = LAPACKE_dgesdd(LAPACK_ROW_MAJOR, 'N', rows, cols, m.data(), cols, s.data(), nullptr, rows, nullptr, cols);
    if (status != 0) { fail(env, "singularValues: LAPACK dgesdd did not converge (info " + std::to_string(status) + ")"); return env.Undefined(); }
  }
  return fromDoubles(env, s);
}

Napi::Value Cholesky(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  Array a = arrayOf(info[0]);
  int n = info[1].As<Napi::Number>().Int32Value();
  if (!a.valid) { fail(env, "cholesky: a typed array"); return env.Undefined(); }
  std::vector<double> m = toDoubles(a);
  int status = n > 0 ? LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', n, m.data(), n) : 0;
  if (status != 0) { fail(env, "cholesky: the matrix is not symmetric positive definite"); return env.Undefined(); }
  for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) m[i * n + j] = 0;
  return fromDoubles(env, m);
}

Napi::Value RidgeSolve(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  Array xa = arrayOf(info[0]);
  int n = info[1].As<Napi::Number>().Int32Value();
  int p = info[2].As<Napi::Number>().Int32Value();
  Array ya = arrayOf(info[3]);
  int q = info[4].As<Napi::Number>().Int32Value();
  double lambda = info[5].As<Napi::Number>().DoubleValue();
  if (!xa.valid || !ya.valid) { fail(env, "ridgeSolve: typed arrays"); return env.Undefined(); }
  if (!(lambda >= 0)) { fail(env, "ridgeSolve: lambda must be ≥ 0, got " + std::to_string(lambda)); return env.Undefined(); }
  // fp64 inputs are read in place (the primal path does not write them); fp32 ones are widened once.
  std::vector<double> xStore, yStore;
  const double* x = xa.isFloat32 ? (xStore = toDoubles(xa)).data() : static_cast<const double*>(xa.data);
  auto out = Napi::Float64Array::New(env, size_t(p) * q);
  double* w = out.Data();
  if (p <= n) {
    const double* y = ya.isFloat32 ? (yStore = toDoubles(ya)).data() : static_cast<const double*>(ya.data);
    // Primal: (xᵀx + λI) W = xᵀy.
    std::vector<double> g(size_t(p) * p);
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, p, n, 1.0, x, p, 0.0, g.data(), p);
    for (int i = 0; i < p; i++) g[i * p + i] += lambda;
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, p, q, n, 1.0, x, p, y, q, 0.0, w, q);
    int status = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', p, q, g.data(), p, w, q);
    if (status != 0) { fail(env, "cholesky: the matrix is not symmetric positive definite"); return env.Undefined(); }
  } else {
    // Dual: W = xᵀ (x xᵀ + λI)⁻¹ y (the solve overwrites its right-hand side: y is copied).
    yStore = toDoubles(ya);
    std::vector<double> g(size_t(n) * n);
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, n, p, 1.0, x, p, 0.0, g.data(), n);
    for (int i = 0; i < n; i++) g[i * n + i] += lambda;
    int status = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', n, q, g.data(), n, yStore.data(), q);
    if (status != 0) { fail(env, "cholesky: the matrix is not symmetric positive definite"); return env.Undefined(); }
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, p, q, n, 1.0, x, p, yStore.data(), q, 0.0, w, q);
  }
  return out;
}

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

// The first argument of a call whose float type differs from the parameters' (read as the wrong
// bytes it gave margins of 1e20): set while reading, checked before any computing (no C++ exceptions).
thread_local std::string argumentError;

template <typename T>
T* dataOf(const Napi::Value& v) {
  Array a = arrayOf(v);
  if (!a.valid || a.isFloat32 != std::is_same<T, float>::value) {
    if (argumentError.empty()) argumentError = std::string("an argument is ") + (!a.valid ? "not a float array" : a.isFloat32 ? "a Float32Array" : "a Float64Array") + " where the model's parameters are " + (std::is_same<T, float>::value ? "float32" : "float64");
    return nullptr;
  }
  return static_cast<T*>(a.data);
}

// Throws the argument error of this call, if any, and clears it for the next call.
bool argumentsRefused(const Napi::Env& env, const char* call) {
  if (argumentError.empty()) return false;
  std::string message = std::string(call) + ": " + argumentError;
  argumentError.clear();
  return !fail(env, message);
}

void refuse(const std::string& message) {
  if (argumentError.empty()) argumentError = message;
}

// The index of a code's name in its list (native/abi.json), or -1.
int codeIndex(const Napi::Value& v, const char* const* names, int count) {
  if (!v.IsString()) return -1;
  std::string name = v.As<Napi::String>().Utf8Value();
  for (int i = 0; i < count; i++) if (name == names[i]) return i;
  return -1;
}

bool typedArrayOf(const Napi::Value& v, napi_typedarray_type type) {
  return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == type;
}
bool floatArray(const Napi::Value& v) { return typedArrayOf(v, napi_float64_array) || typedArrayOf(v, napi_float32_array); }

bool fieldFits(const abi::Field& f, const Napi::Value& v) {
  switch (f.kind) {
    case abi::KIND_NUMBER: return v.IsNumber();
    case abi::KIND_FLOAT64_ARRAY: return typedArrayOf(v, napi_float64_array);
    case abi::KIND_FLOAT_ARRAY: return floatArray(v);
    case abi::KIND_UINT8_ARRAY: return typedArrayOf(v, napi_uint8_array);
    case abi::KIND_INT32_ARRAY: return typedArrayOf(v, napi_int32_array);
    case abi::KIND_CODE: return codeIndex(v, f.codes, f.codeCount) >= 0;
    case abi::KIND_NUMBER_LIST:
    case abi::KIND_FLOAT_ARRAY_LIST: {
      if (!v.IsArray()) return false;
      Napi::Array a = v.As<Napi::Array>();
      for (uint32_t i = 0; i < a.Length(); i++) {
        Napi::Value e = a.Get(i);
        if (f.kind == abi::KIND_NUMBER_LIST ? !e.IsNumber() : !(e.IsNull() || floatArray(e))) return false;
      }
      return true;
    }
  }
  return false;
}

// Refuses (see argumentError) an object with a field the table does not list, a listed field of the
// wrong kind, or a required field missing: nothing is read by a name the other side does not write.
void checkFields(const Napi::Object& o, const char* object, const abi::Field* fields, int count) {
  Napi::Array keys = o.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); i++) {
    std::string key = keys.Get(i).As<Napi::String>().Utf8Value();
    bool known = false;
    for (int j = 0; j < count && !known; j++) known = key == fields[j].name;
    if (!known) refuse(std::string(object) + " has a field \"" + key + "\" that native/abi.json does not list");
  }
  for (int j = 0; j < count; j++) {
    const abi::Field& f = fields[j];
    Napi::Value v = o.Get(f.name);
    if (v.IsUndefined()) {
      if (!f.optional) refuse(std::string(object) + "." + f.name + " is missing");
    } else if (v.IsNull()) {
      if (!f.nullable) refuse(std::string(object) + "." + f.name + " is null");
    } else if (!fieldFits(f, v)) {
      refuse(std::string(object) + "." + f.name + " is not of kind " + abi::fieldKindNames[f.kind] + " in native/abi.json" + (f.kind == abi::KIND_CODE ? " (an unknown code)" : ""));
    }
  }
}

template <int N>
void checkFields(const Napi::Object& o, const char* object, const abi::Field (&fields)[N]) {
  checkFields(o, object, fields, N);
}

// A loss code (native/abi.json), or NO_LOSS for null (a forward pass).
int lossOf(const Napi::Value& v) {
  if (v.IsNull()) return NO_LOSS;
  int code = codeIndex(v, abi::lossNames, abi::lossCount);
  if (code < 0) refuse("the loss is not one of native/abi.json's codes.loss");
  return code;
}

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
  checkFields(g, "gradients", abi::gradients::fields);
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

// A few threads kept for the row lanes of one member's pass (starting threads at every step would
// cost more than a small step). run(count, job) calls job(0 … count − 1), the caller taking a share.
class LanePool {
 public:
  explicit LanePool(int helpers) {
    for (int t = 0; t < helpers; t++) workers_.emplace_back([this] { serve(); });
  }
  ~LanePool() {
    { std::lock_guard<std::mutex> lock(mutex_); quit_ = true; }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
  }
  int helpers() const { return int(workers_.size()); }
  void run(int count, const std::function<void(int)>& job) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = &job;
      count_ = count;
      next_ = 0;
      finished_ = 0;
      generation_++;
    }
    wake_.notify_all();
    work();
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return finished_ == count_; });
    job_ = nullptr;
  }

 private:
  void work() {
    for (;;) {
      int task;
      { std::lock_guard<std::mutex> lock(mutex_); if (!job_ || next_ >= count_) return; task = next_++; }
      (*job_)(task);
      { std::lock_guard<std::mutex> lock(mutex_); if (++finished_ == count_) done_.notify_all(); }
    }
  }
  void serve() {
    uint64_t seen = 0;
    for (;;) {
      { std::unique_lock<std::mutex> lock(mutex_); wake_.wait(lock, [&] { return quit_ || generation_ != seen; }); if (quit_) return; seen = generation_; }
      work();
    }
  }
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_, done_;
  const std::function<void(int)>* job_ = nullptr;
  int count_ = 0, next_ = 0, finished_ = 0;
  uint64_t generation_ = 0;
  bool quit_ = false;
};

LanePool& lanePool(int threads) {
  static std::unique_ptr<LanePool> pool;
  if (!pool || pool->helpers() != threads - 1) pool = std::make_unique<LanePool>(threads - 1);
  return *pool;
}

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
  else checkFields(batchV.As<Napi::Object>(), "batch", abi::batch::fields);
  if (!evV.IsUndefined()) {
    if (!evV.IsObject()) refuse("the evaluation is not an object");
    else checkFields(evV.As<Napi::Object>(), "evaluation", abi::evaluation::fields);
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

// ---- The training loop: many steps per call (src/train/nativeLoop.ts drives it) ----

// Step rule and stop rules of a call, read from the JavaScript `control` object.
struct Control {
  int optimizer = abi::OPTIMIZER_GD;  // codes.optimizer of native/abi.json
  const double* rates = nullptr;  // K × layers, 0 for a frozen layer
  std::vector<double*> first, second;  // Adam moments per slot (2l weights, 2l + 1 biases), null where absent
  double* adamSteps = nullptr;
  double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8;
  double* steps = nullptr;
  const double* baseRates = nullptr;
  const double* stopAt = nullptr;  // per member: return once steps reach it (next recording step, maxSteps)
  double maxTime = INFINITY, divergenceLoss = INFINITY, targetRisk = NAN, gradientTolerance = NAN;
  int misfitKind = abi::MISFIT_OFF;  // off; signs of ±1 labels; class indices; |f − y| ≤ tolerance
  double misfitTolerance = 0;
  const double* misfitTargets = nullptr;
  const uint8_t* trained = nullptr;  // per layer
  int window = 0;
  double plateauTolerance = 0;
  double* ring = nullptr;  // K × (window + 1) losses, entry j of a member at j mod (window + 1)
  double* ringCount = nullptr;
  double yieldSeconds = 0.2, secondsLeft = INFINITY;
  uint8_t* pending = nullptr;  // 1: evaluated at its current step, the update not yet applied
  int threads = 1;
  int targetDim = 1;
  // Minibatch order (sgd): the epoch's permutation, the position in it, the batch size, steps to take.
  const int32_t* order = nullptr;
  int position = 0, batchSize = 0, stepBudget = 0;
};

// A number field; checkFields has refused the object if a required one is absent or not a number.
double numberOf(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : NAN;
}
template <typename P>
P* pointerOf(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsTypedArray() ? static_cast<P*>(v.As<Napi::TypedArray>().ArrayBuffer().Data()) + v.As<Napi::TypedArray>().ByteOffset() / sizeof(P) : nullptr;
}

// The control of a training call (an MlpTrainControl): every field named through native/abi.json, the
// optional ones required where the step rule or the minibatches need them; nothing takes a default.
Control controlOf(const Napi::Object& c) {
  namespace f = abi::trainControl;
  checkFields(c, "control", f::fields);
  Control ctl;
  if (!argumentError.empty()) return ctl;
  ctl.optimizer = codeIndex(c.Get(f::optimizer), abi::optimizerNames, abi::optimizerCount);
  ctl.rates = pointerOf<double>(c, f::rates);
  if (ctl.optimizer == abi::OPTIMIZER_ADAM) {
    for (const char* key : {f::first, f::second, f::adamSteps, f::beta1, f::beta2, f::epsilon})
      if (c.Get(key).IsUndefined()) refuse(std::string("control.") + key + " is missing (Adam needs it)");
    // Adam's moments per slot (weights of layer l at 2l, its biases at 2l + 1), float64 whatever the model's type.
    auto moments = [&](const char* key) {
      std::vector<double*> into;
      Napi::Value v = c.Get(key);
      if (!v.IsArray()) return into;
      Napi::Array a = v.As<Napi::Array>();
      for (uint32_t i = 0; i < a.Length(); i++) {
        Array slot = arrayOf(a.Get(i));
        if (slot.valid && slot.isFloat32) refuse(std::string("control.") + key + " holds a Float32Array; Adam's moments are float64");
        into.push_back(slot.valid && slot.length > 0 ? static_cast<double*>(slot.data) : nullptr);
      }
      return into;
    };
    ctl.first = moments(f::first);
    ctl.second = moments(f::second);
    ctl.adamSteps = pointerOf<double>(c, f::adamSteps);
    ctl.beta1 = numberOf(c, f::beta1);
    ctl.beta2 = numberOf(c, f::beta2);
    ctl.epsilon = numberOf(c, f::epsilon);
  }
  ctl.steps = pointerOf<double>(c, f::steps);
  ctl.baseRates = pointerOf<double>(c, f::baseRates);
  ctl.stopAt = pointerOf<double>(c, f::stopAt);
  ctl.maxTime = numberOf(c, f::maxTime);
  ctl.divergenceLoss = numberOf(c, f::divergenceLoss);
  ctl.targetRisk = numberOf(c, f::targetRisk);
  ctl.gradientTolerance = numberOf(c, f::gradientTolerance);
  ctl.misfitKind = codeIndex(c.Get(f::misfitKind), abi::misfitNames, abi::misfitCount);
  ctl.misfitTolerance = numberOf(c, f::misfitTolerance);
  ctl.misfitTargets = pointerOf<double>(c, f::misfitTargets);
  ctl.trained = pointerOf<uint8_t>(c, f::trained);
  ctl.window = int(numberOf(c, f::window));
  ctl.plateauTolerance = numberOf(c, f::plateauTolerance);
  ctl.ring = pointerOf<double>(c, f::ring);
  ctl.ringCount = pointerOf<double>(c, f::ringCount);
  ctl.yieldSeconds = numberOf(c, f::yieldSeconds);
  ctl.secondsLeft = numberOf(c, f::secondsLeft);
  ctl.pending = pointerOf<uint8_t>(c, f::pending);
  ctl.threads = std::max(1, int(numberOf(c, f::threads)));
  ctl.targetDim = int(numberOf(c, f::targetDim));
  ctl.order = pointerOf<int32_t>(c, f::order);
  if (ctl.order) {
    for (const char* key : {f::position, f::batchSize, f::stepBudget})
      if (!c.Get(key).IsNumber()) refuse(std::string("control.") + key + " is missing (minibatches need it)");
    ctl.position = int(numberOf(c, f::position));
    ctl.batchSize = int(numberOf(c, f::batchSize));
    ctl.stepBudget = int(numberOf(c, f::stepBudget));
  }
  return ctl;
}

// The step rule of src/train/optimizers.ts on member k, in the same arithmetic (a second
// implementation of one step, tested against it).
template <typename T>
void updateMember(const Net<T>& net, const Pass<T>& p, const Control& c, int k) {
  double c1 = 1, c2 = 1;
  if (c.optimizer == abi::OPTIMIZER_ADAM) {
    c.adamSteps[k] += 1;
    c1 = 1 - std::pow(c.beta1, c.adamSteps[k]);
    c2 = 1 - std::pow(c.beta2, c.adamSteps[k]);
  }
  for (int l = 0; l < net.layers; l++) {
    double r = c.rates[size_t(k) * net.layers + l];
    if (r == 0) continue;
    int fanIn = net.widths[l], fanOut = net.widths[l + 1];
    for (int s = 0; s < 2; s++) {
      T* param = s == 0 ? net.W[l] : net.B[l];
      const T* grad = s == 0 ? p.GW[l] : p.GB[l];
      if (!param || !grad) continue;
      size_t size = s == 0 ? size_t(fanOut) * fanIn : size_t(fanOut);
      size_t start = size_t(k) * size, end = start + size;
      if (c.optimizer == abi::OPTIMIZER_GD) {
        for (size_t i = start; i < end; i++) param[i] = T(double(param[i]) - r * double(grad[i]));
      } else {
        double* m = c.first[2 * l + s];
        double* v = c.second[2 * l + s];
        const double b1 = c.beta1, b2 = c.beta2;
        for (size_t i = start; i < end; i++) {
          double g = grad[i];
          m[i] = b1 * m[i] + (1 - b1) * g;
          v[i] = b2 * v[i] + (1 - b2) * g * g;
          param[i] = T(double(param[i]) - (r * (m[i] / c1)) / (std::sqrt(v[i] / c2) + c.epsilon));
        }
      }
    }
  }
}

// ‖∇L‖₂ over member k's trained layers.
template <typename T>
double gradientNorm(const Net<T>& net, const Pass<T>& p, const Control& c, int k) {
  double total = 0;
  for (int l = 0; l < net.layers; l++) {
    if (c.trained && !c.trained[l]) continue;
    size_t fanIn = net.widths[l], fanOut = net.widths[l + 1];
    for (int s = 0; s < 2; s++) {
      const T* g = s == 0 ? p.GW[l] : p.GB[l];
      if (!g) continue;
      size_t size = s == 0 ? fanOut * fanIn : fanOut;
      double sum = 0;
      for (size_t i = size_t(k) * size; i < size_t(k + 1) * size; i++) sum += double(g[i]) * g[i];
      total += sum;
    }
  }
  return std::sqrt(total);
}

// Whether every training point is fitted by member k's outputs (the interpolation rule's test).
template <typename T>
bool fitsEveryPoint(const Pass<T>& p, const Control& c, int k, int outW) {
  const T* out = p.outputs + size_t(k) * p.n * outW;
  const double* y = c.misfitTargets;
  for (int i = 0; i < p.n; i++) {
    if (c.misfitKind == abi::MISFIT_SIGNS) {
      if (!(double(out[size_t(i) * outW]) * y[i] > 0)) return false;
    } else if (c.misfitKind == abi::MISFIT_CLASSES) {
      int best = 0;
      for (int j = 1; j < outW; j++) if (out[size_t(i) * outW + j] > out[size_t(i) * outW + best]) best = j;
      if (best != int(y[i])) return false;
    } else {
      for (int j = 0; j < outW; j++) if (std::abs(double(out[size_t(i) * outW + j]) - y[size_t(i) * outW + j]) > c.misfitTolerance) return false;
    }
  }
  return true;
}

// Whether a stop rule may fire for member k at its evaluated state: then the caller's checkpoint
// decides (in exact arithmetic these tests fire where src/train/stopping.ts does; the slack only
// makes the loop return early, never late).
template <typename T>
bool mayStop(const Net<T>& net, const Pass<T>& p, const Control& c, int k, double elapsed) {
  double loss = p.losses[k];
  if (!std::isfinite(loss) || loss > c.divergenceLoss) return true;
  if (!std::isnan(c.targetRisk) && loss <= c.targetRisk) return true;
  if (c.steps[k] >= c.stopAt[k]) return true;
  if (c.steps[k] * c.baseRates[k] >= c.maxTime) return true;
  if (elapsed >= c.secondsLeft) return true;
  if (c.misfitKind != abi::MISFIT_OFF && fitsEveryPoint(p, c, k, net.widths[net.layers])) return true;
  if (!std::isnan(c.gradientTolerance) && gradientNorm(net, p, c, k) <= c.gradientTolerance * (1 + 1e-9)) return true;
  if (c.window > 0) {
    double count = c.ringCount[k];
    if (count >= c.window + 1) {
      size_t span = size_t(c.window) + 1;
      double ago = c.ring[size_t(k) * span + size_t(count - span) % span];
      if (ago - loss <= c.plateauTolerance * std::abs(ago) + 1e-12 * std::abs(ago)) return true;
    }
  }
  return false;
}

void pushLoss(const Control& c, int k, double loss) {
  if (c.window <= 0) return;
  size_t span = size_t(c.window) + 1;
  c.ring[size_t(k) * span + size_t(c.ringCount[k]) % span] = loss;
  c.ringCount[k] += 1;
}

// Runs `work(t)` for t = 0 … threads − 1, the BLAS single-threaded meanwhile when there are several.
template <typename F>
void onThreads(int threads, F work) {
  if (threads <= 1) { work(0); return; }
  int blasThreads = openblas_get_num_threads();
  openblas_set_num_threads(1);
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; t++) pool.emplace_back(work, t);
  work(0);
  for (auto& th : pool) th.join();
  openblas_set_num_threads(blasThreads);
}

// The members a call trains, and the contiguous block of them that thread t of `threads` takes.
std::vector<int> activeMembers(int K, const uint8_t* active) {
  std::vector<int> members;
  for (int k = 0; k < K; k++) if (!active || active[k]) members.push_back(k);
  return members;
}
std::pair<size_t, size_t> blockOf(size_t count, int t, int threads) { return {count * t / threads, count * (t + 1) / threads}; }

using Clock = std::chrono::steady_clock;
double secondsSince(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Full-batch GD or Adam: each active member applies its pending update, then steps until a stop rule
// may fire, a recording step, or the call's time slice ends; it returns evaluated and pending. Members
// are independent, split over threads in contiguous blocks (the numbers do not depend on the split).
template <typename T>
double trainFullBatch(const Net<T>& net, const Pass<T>& pass, const Control& c, const uint8_t* active) {
  const std::vector<int> members = activeMembers(net.K, active);
  int threads = std::min<int>(c.threads, int(members.size()));
  // With fewer members than threads, the spare threads split each member's rows (two-layer nets).
  int laneThreads = threads <= 1 ? c.threads : 1;
  int blasThreads = openblas_get_num_threads();
  if (laneThreads > 1) openblas_set_num_threads(1);
  std::vector<double> taken(std::max(threads, 1), 0);
  Clock::time_point start = Clock::now();
  onThreads(threads, [&](int t) {
    Workspace<T> ws;
    const auto [from, to] = blockOf(members.size(), t, threads);
    std::vector<int> alive;
    for (size_t i = from; i < to; i++) {
      int k = members[i];
      if (c.pending[k]) { updateMember(net, pass, c, k); c.steps[k] += 1; taken[t] += 1; c.pending[k] = 0; }
      alive.push_back(k);
    }
    while (!alive.empty()) {
      double elapsed = secondsSince(start);
      std::vector<int> next;
      for (int k : alive) {
        memberPass(net, pass, k, ws, laneThreads);
        pushLoss(c, k, pass.losses[k]);
        if (mayStop(net, pass, c, k, elapsed)) c.pending[k] = 1;
        else next.push_back(k);
      }
      if (elapsed >= c.yieldSeconds) { for (int k : next) c.pending[k] = 1; break; }
      for (int k : next) { updateMember(net, pass, c, k); c.steps[k] += 1; taken[t] += 1; }
      alive.swap(next);
    }
  });
  if (laneThreads > 1) openblas_set_num_threads(blasThreads);
  double total = 0;
  for (double x : taken) total += x;
  return total;
}

// Minibatch steps (sgd, or adam with a batch size) along the epoch's order from `position`: exactly
// stepBudget steps or to the end of the epoch, whichever is first; every active member takes each step.
template <typename T>
int trainMinibatches(const Net<T>& net, const Pass<T>& pass, const Control& c, const uint8_t* active, int targetDim, const T* fullOffsets) {
  const std::vector<int> members = activeMembers(net.K, active);
  const int n = pass.n, d = net.widths[0], outW = net.widths[net.layers];
  const int batch = std::min(c.batchSize, n);
  int stepsToTake = 0;
  for (int pos = c.position; stepsToTake < c.stepBudget && pos < n; pos += batch) stepsToTake++;
  int threads = std::min<int>(c.threads, int(members.size()));
  onThreads(threads, [&](int t) {
    Workspace<T> ws;
    const auto [from, to] = blockOf(members.size(), t, threads);
    std::vector<T> inputs(size_t(batch) * d), targets(size_t(batch) * targetDim), offsets(fullOffsets ? size_t(net.K) * batch * outW : 0), outputs(size_t(net.K) * batch * outW);
    Pass<T> p = pass;
    p.X = inputs.data();
    p.targets = targets.data();
    p.outputs = outputs.data();
    p.offsets = fullOffsets ? offsets.data() : nullptr;
    int pos = c.position;
    for (int s = 0; s < stepsToTake; s++, pos += batch) {
      int rows = std::min(batch, n - pos);
      p.n = rows;
      for (int r = 0; r < rows; r++) {
        size_t src = size_t(c.order[pos + r]);
        std::memcpy(&inputs[size_t(r) * d], pass.X + src * d, sizeof(T) * d);
        for (int j = 0; j < targetDim; j++) targets[size_t(r) * targetDim + j] = pass.targets[src * targetDim + j];
        if (fullOffsets)
          for (size_t i = from; i < to; i++) {
            int k = members[i];
            for (int j = 0; j < outW; j++) offsets[(size_t(k) * rows + r) * outW + j] = fullOffsets[(size_t(k) * n + src) * outW + j];
          }
      }
      for (size_t i = from; i < to; i++) {
        int k = members[i];
        memberPass(net, p, k, ws);
        updateMember(net, p, c, k);
        c.steps[k] += 1;
      }
    }
  });
  return stepsToTake;
}

Napi::Value MlpTrain(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  int type = parameterType(env, "mlpTrain", info[0], info[1]);
  if (type < 0) return env.Undefined();
  Napi::Object batch = info[0].As<Napi::Object>();
  Napi::Object ev = info[1].As<Napi::Object>();
  int loss = lossOf(info[2]);
  if (loss == NO_LOSS) refuse("training needs a loss");
  if (!info[7].IsObject()) refuse("the control is not an object");
  Control c = info[7].IsObject() ? controlOf(info[7].As<Napi::Object>()) : Control();
  if (argumentsRefused(env, "mlpTrain")) return env.Undefined();
  bool minibatches = c.order != nullptr;
  int targetDim = c.targetDim;
  auto run = [&](auto tag) -> double {
    using T = decltype(tag);
    Net<T> net = netOf<T>(batch);
    Pass<T> pass;
    const T* offsets = nullptr;
    const uint8_t* active = readEvaluation(ev, pass, offsets);
    pass.loss = loss;
    std::vector<T> targetStore;
    pass.targets = targetsAs<T>(info[3], targetStore);
    pass.outputs = dataOf<T>(info[4]);
    pass.losses = static_cast<double*>(arrayOf(info[5]).data);
    readGradients(info[6], net.layers, pass);
    if (argumentsRefused(env, "mlpTrain")) return -1.0;
    if (minibatches) return trainMinibatches(net, pass, c, active, targetDim, offsets);
    pass.offsets = offsets;
    return trainFullBatch(net, pass, c, active);
  };
  double taken = type == 1 ? run(float()) : run(double());
  if (taken < 0) return env.Undefined();
  return Napi::Number::New(env, taken);
}

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  openblas_set_num_threads(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

Napi::Value Describe(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto result = Napi::Object::New(env);
  result.Set("blas", Napi::String::New(env, openblas_get_config()));
  result.Set("threads", Napi::Number::New(env, openblas_get_num_threads()));
  return result;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("gemm", Napi::Function::New(env, Gemm));
  exports.Set("gram", Napi::Function::New(env, Gram));
  exports.Set("symmetricEigen", Napi::Function::New(env, SymmetricEigen));
  exports.Set("symmetricEigenvalues", Napi::Function::New(env, SymmetricEigenvalues));
  exports.Set("singularValues", Napi::Function::New(env, SingularValues));
  exports.Set("cholesky", Napi::Function::New(env, Cholesky));
  exports.Set("ridgeSolve", Napi::Function::New(env, RidgeSolve));
  exports.Set("mlpRun", Napi::Function::New(env, MlpRun));
  exports.Set("mlpTrain", Napi::Function::New(env, MlpTrain));
  exports.Set("mlpNtkGram", Napi::Function::New(env, MlpNtkGram));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("describe", Napi::Function::New(env, Describe));
  return exports;
}

}  // namespace

NODE_API_MODULE(featlab_native, Init)
