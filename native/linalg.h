// The device's generic operations over OpenBLAS and LAPACK (src/linalg/nativeBackend.ts): gemm, Gram, eigen- and singular values, Cholesky, ridge solve.
#pragma once

#include <napi.h>
#include <cblas.h>
#include <lapacke.h>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>
#include "arrays.h"

namespace {

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

}  // namespace
