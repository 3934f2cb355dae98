// featlab's native backend: OpenBLAS/LAPACK for the linear algebra and one fused call per training
// step for the forward and backward pass of every member of an ensemble. Works in place on the
// caller's typed arrays (Float64Array or Float32Array); mirrors src/linalg/tsBackend.ts.
#include <napi.h>
#include <cblas.h>
#include <lapacke.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
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

Napi::Value SymmetricEigen(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  Array a = arrayOf(info[0]);
  int n = info[1].As<Napi::Number>().Int32Value();
  if (!a.valid) { fail(env, "symmetricEigen: a typed array"); return env.Undefined(); }
  std::vector<double> m = toDoubles(a);
  std::vector<double> w(n);
  if (n > 0) {
    int status = LAPACKE_dsyevd(LAPACK_ROW_MAJOR, 'V', 'U', n, m.data(), n, w.data());
    if (status != 0) { fail(env, "symmetricEigen: LAPACK dsyevd did not converge (info " + std::to_string(status) + ")"); return env.Undefined(); }
  }
  auto result = Napi::Object::New(env);
  result.Set("values", fromDoubles(env, w));
  result.Set("vectors", fromDoubles(env, m));
  return result;
}

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
  std::vector<double> x = toDoubles(xa), y = toDoubles(ya);
  std::vector<double> w(size_t(p) * q);
  if (p <= n) {
    // Primal: (xᵀx + λI) W = xᵀy.
    std::vector<double> g(size_t(p) * p);
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, p, n, 1.0, x.data(), p, 0.0, g.data(), p);
    for (int i = 0; i < p; i++) g[i * p + i] += lambda;
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, p, q, n, 1.0, x.data(), p, y.data(), q, 0.0, w.data(), q);
    int status = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', p, q, g.data(), p, w.data(), q);
    if (status != 0) { fail(env, "cholesky: the matrix is not symmetric positive definite"); return env.Undefined(); }
  } else {
    // Dual: W = xᵀ (x xᵀ + λI)⁻¹ y.
    std::vector<double> g(size_t(n) * n);
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, n, p, 1.0, x.data(), p, 0.0, g.data(), n);
    for (int i = 0; i < n; i++) g[i * n + i] += lambda;
    int status = LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', n, q, g.data(), n, y.data(), q);
    if (status != 0) { fail(env, "cholesky: the matrix is not symmetric positive definite"); return env.Undefined(); }
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, p, q, n, 1.0, x.data(), p, y.data(), q, 0.0, w.data(), q);
  }
  return fromDoubles(env, w);
}

// Activation and loss codes: the order of ACTIVATIONS and LOSSES in src/linalg/elementwise.ts.
enum ActivationKind { LINEAR = 0, RELU, LEAKY_RELU, SIGMOID, TANH, SWISH, GELU };
enum LossKind { LOGISTIC = 0, SQUARE, CROSS_ENTROPY, NO_LOSS = -1 };

inline double sigmoid(double z) { return z >= 0 ? 1 / (1 + std::exp(-z)) : std::exp(z) / (1 + std::exp(z)); }
inline double softplus(double z) { return z > 0 ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z)); }

template <typename T>
void activate(int kind, double leak, const T* pre, T* value, T* derivative, size_t length) {
  for (size_t i = 0; i < length; i++) {
    double z = pre[i], v, d;
    switch (kind) {
      case LINEAR: v = z; d = 1; break;
      case RELU: v = z > 0 ? z : 0; d = z > 0 ? 1 : 0; break;
      case LEAKY_RELU: v = z > 0 ? z : leak * z; d = z > 0 ? 1 : leak; break;
      case SIGMOID: { double s = sigmoid(z); v = s; d = s * (1 - s); break; }
      case TANH: { double t = std::tanh(z); v = t; d = 1 - t * t; break; }
      case SWISH: { double s = sigmoid(z); v = z * s; d = s + z * s * (1 - s); break; }
      default: {  // GELU, exact: z·Φ(z)
        double cdf = 0.5 * (1 + std::erf(z * M_SQRT1_2));
        v = z * cdf;
        d = cdf + z * std::exp(-0.5 * z * z) * (0.5 * M_2_SQRTPI * M_SQRT1_2);
        break;
      }
    }
    value[i] = T(v);
    derivative[i] = T(d);
  }
}

template <typename T>
double lossAndGradient(int kind, const T* out, const T* targets, int n, int width, T* gradient) {
  double total = 0;
  if (kind == LOGISTIC) {
    for (int i = 0; i < n; i++) {
      double margin = double(targets[i]) * out[i];
      total += softplus(-margin);
      gradient[i] = T(-double(targets[i]) * sigmoid(-margin) / n);
    }
  } else if (kind == SQUARE) {
    for (int i = 0; i < n * width; i++) {
      double r = double(out[i]) - double(targets[i]);
      total += 0.5 * r * r;
      gradient[i] = T(r / n);
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
      for (int c = 0; c < width; c++) gradient[size_t(i) * width + c] = T((std::exp(double(row[c]) - mx) / sum - (c == label ? 1 : 0)) / n);
    }
  }
  return total / n;
}

template <typename T>
T* dataOf(const Napi::Value& v) {
  return static_cast<T*>(arrayOf(v).data);
}

// One pass over every active member: forward, and with a loss also the loss and the gradients.
template <typename T>
void mlpRun(const Napi::Object& batch, const Napi::Object& ev, int loss, const Napi::Value& targetsV, const Napi::Value& outputsV, const Napi::Value& lossesV, const Napi::Value& gradsV) {
  Napi::Array widthsA = batch.Get("widths").As<Napi::Array>();
  int layers = int(widthsA.Length()) - 1;
  std::vector<int> widths(layers + 1);
  for (int l = 0; l <= layers; l++) widths[l] = widthsA.Get(uint32_t(l)).As<Napi::Number>().Int32Value();
  int K = batch.Get("ensembleSize").As<Napi::Number>().Int32Value();
  std::string act = batch.Get("activation").As<Napi::String>().Utf8Value();
  static const char* names[] = {"linear", "relu", "leakyRelu", "sigmoid", "tanh", "swish", "gelu"};
  // The schema admits only these names (ACTIVATIONS in src/linalg/elementwise.ts, same order).
  int kind = 0;
  for (int i = 0; i < 7; i++) if (act == names[i]) kind = i;
  double leak = batch.Get("leak").As<Napi::Number>().DoubleValue();
  const double* multipliers = static_cast<double*>(arrayOf(batch.Get("multipliers")).data);
  const double* outputScale = static_cast<double*>(arrayOf(batch.Get("outputScale")).data);
  Napi::Array weightsA = batch.Get("weights").As<Napi::Array>();
  Napi::Array biasesA = batch.Get("biases").As<Napi::Array>();
  std::vector<T*> W(layers), B(layers, nullptr), GW, GB;
  for (int l = 0; l < layers; l++) {
    W[l] = dataOf<T>(weightsA.Get(uint32_t(l)));
    Napi::Value b = biasesA.Get(uint32_t(l));
    if (b.IsTypedArray()) B[l] = dataOf<T>(b);
  }
  const T* X = dataOf<T>(ev.Get("inputs"));
  int n = ev.Get("n").As<Napi::Number>().Int32Value();
  Napi::Value offsetsV = ev.Get("offsets");
  const T* offsets = offsetsV.IsTypedArray() ? dataOf<T>(offsetsV) : nullptr;
  Napi::Value activeV = ev.Get("active");
  const uint8_t* active = activeV.IsTypedArray() ? activeV.As<Napi::Uint8Array>().Data() : nullptr;
  T* outputs = dataOf<T>(outputsV);
  const T* targets = loss != NO_LOSS ? dataOf<T>(targetsV) : nullptr;
  std::vector<double> targetStore;
  double* losses = loss != NO_LOSS ? static_cast<double*>(arrayOf(lossesV).data) : nullptr;
  if (loss != NO_LOSS) {
    Napi::Object g = gradsV.As<Napi::Object>();
    Napi::Array gw = g.Get("weights").As<Napi::Array>(), gb = g.Get("biases").As<Napi::Array>();
    GW.resize(layers);
    GB.assign(layers, nullptr);
    for (int l = 0; l < layers; l++) {
      GW[l] = dataOf<T>(gw.Get(uint32_t(l)));
      Napi::Value b = gb.Get(uint32_t(l));
      if (b.IsTypedArray()) GB[l] = dataOf<T>(b);
    }
  }
  // Targets may be a Float64Array while the model is fp32: read them as doubles then.
  std::vector<T> targetCopy;
  if (loss != NO_LOSS) {
    Array t = arrayOf(targetsV);
    if (t.isFloat32 != std::is_same<T, float>::value) {
      targetCopy.resize(t.length);
      if (t.isFloat32) for (size_t i = 0; i < t.length; i++) targetCopy[i] = T(static_cast<float*>(t.data)[i]);
      else for (size_t i = 0; i < t.length; i++) targetCopy[i] = T(static_cast<double*>(t.data)[i]);
      targets = targetCopy.data();
    }
  }
  thread_local std::vector<T> pre, post, deriv, delta, below, grad;
  int outW = widths[layers];
  size_t maxWidth = *std::max_element(widths.begin(), widths.end());
  size_t cap = size_t(n) * maxWidth;
  std::vector<size_t> offset(layers + 1, 0);
  for (int l = 0; l < layers; l++) offset[l + 1] = offset[l] + size_t(n) * widths[l + 1];
  if (pre.size() < offset[layers]) { pre.resize(offset[layers]); post.resize(offset[layers]); deriv.resize(offset[layers]); }
  if (delta.size() < cap) { delta.resize(cap); below.resize(cap); }
  if (grad.size() < size_t(n) * outW) grad.resize(size_t(n) * outW);

  for (int k = 0; k < K; k++) {
    if (active && !active[k]) continue;
    const T* input = X;
    for (int l = 0; l < layers; l++) {
      int fanIn = widths[l], fanOut = widths[l + 1];
      const T* w = W[l] + size_t(k) * fanOut * fanIn;
      T* z = pre.data() + offset[l];
      gemmT(false, true, n, fanOut, fanIn, multipliers[l], input, w, 0.0, z);
      if (B[l]) {
        const T* b = B[l] + size_t(k) * fanOut;
        double m = multipliers[l];
        for (int i = 0; i < n; i++) for (int j = 0; j < fanOut; j++) z[size_t(i) * fanOut + j] += T(m * b[j]);
      }
      if (l < layers - 1) {
        activate(kind, leak, z, post.data() + offset[l], deriv.data() + offset[l], size_t(n) * fanOut);
        input = post.data() + offset[l];
      }
    }
    double scale = outputScale[k];
    T* out = outputs + size_t(k) * n * outW;
    const T* last = pre.data() + offset[layers - 1];
    const T* off = offsets ? offsets + size_t(k) * n * outW : nullptr;
    for (size_t i = 0; i < size_t(n) * outW; i++) out[i] = T(scale * last[i] - (off ? double(off[i]) : 0.0));
    if (loss == NO_LOSS) continue;
    losses[k] = lossAndGradient<T>(loss, out, targets, n, outW, grad.data());
    T* d = delta.data();
    for (size_t i = 0; i < size_t(n) * outW; i++) d[i] = T(scale * grad[i]);
    for (int l = layers - 1; l >= 0; l--) {
      int fanIn = widths[l], fanOut = widths[l + 1];
      double m = multipliers[l];
      const T* layerInput = l == 0 ? X : post.data() + offset[l - 1];
      T* gw = GW[l] + size_t(k) * fanOut * fanIn;
      gemmT(true, false, fanOut, fanIn, n, m, d, layerInput, 0.0, gw);
      if (GB[l]) {
        T* gb = GB[l] + size_t(k) * fanOut;
        for (int j = 0; j < fanOut; j++) gb[j] = 0;
        for (int i = 0; i < n; i++) for (int j = 0; j < fanOut; j++) gb[j] += T(m * d[size_t(i) * fanOut + j]);
      }
      if (l > 0) {
        const T* w = W[l] + size_t(k) * fanOut * fanIn;
        T* bl = below.data();
        gemmT(false, false, n, fanIn, fanOut, m, d, w, 0.0, bl);
        const T* dv = deriv.data() + offset[l - 1];
        for (size_t i = 0; i < size_t(n) * fanIn; i++) bl[i] *= dv[i];
        std::swap(delta, below);
        d = delta.data();
      }
    }
  }
}

Napi::Value MlpRun(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  Napi::Object batch = info[0].As<Napi::Object>();
  Napi::Object ev = info[1].As<Napi::Object>();
  int loss = info[2].As<Napi::Number>().Int32Value();
  Napi::Array weights = batch.Get("weights").As<Napi::Array>();
  Array first = arrayOf(weights.Get(uint32_t(0)));
  if (!first.valid) { fail(env, "mlp: weights must be typed arrays"); return env.Undefined(); }
  if (first.isFloat32) mlpRun<float>(batch, ev, loss, info[3], info[4], info[5], info[6]);
  else mlpRun<double>(batch, ev, loss, info[3], info[4], info[5], info[6]);
  return env.Undefined();
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
  exports.Set("singularValues", Napi::Function::New(env, SingularValues));
  exports.Set("cholesky", Napi::Function::New(env, Cholesky));
  exports.Set("ridgeSolve", Napi::Function::New(env, RidgeSolve));
  exports.Set("mlpRun", Napi::Function::New(env, MlpRun));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("describe", Napi::Function::New(env, Describe));
  return exports;
}

}  // namespace

NODE_API_MODULE(featlab_native, Init)
