// featlab's native addon: the N-API glue that exports each concept's calls. The concepts live in one
// header each (a single translation unit, so the compiler sees every kernel whole): arrays.h,
// linalg.h (the device's BLAS/LAPACK operations), elementwise.h, abi_check.h (native/abi.json),
// threads.h, mlp_kernels.h and step_loop.h (the MLP family's kernels), cnn_kernels.h (the
// convolutional family's).
#include <napi.h>

#include "arrays.h"
#include "linalg.h"
#include "elementwise.h"
#include "abi_check.h"
#include "openblas_threads.h"
#include "threads.h"
#include "mlp_kernels.h"
#include "step_loop.h"
#include "cnn_kernels.h"
#include "conv_dnnl.h"

namespace {

Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  openblas_set_num_threads(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

Napi::Value Describe(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  auto result = Napi::Object::New(env);
  result.Set("blas", Napi::String::New(env, openblas_get_config()));
  result.Set("threads", Napi::Number::New(env, openblas_get_num_threads()));
  result.Set("convolutions", Napi::String::New(env, convolutionLibrary()));
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
  exports.Set("convPatches", Napi::Function::New(env, ConvPatches));
#ifdef FEATLAB_DNNL
  exports.Set("convolve", Napi::Function::New(env, Convolve));
#endif
  exports.Set("activate", Napi::Function::New(env, Activate));
  exports.Set("combine", Napi::Function::New(env, Combine));
  exports.Set("pool", Napi::Function::New(env, Pool));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("describe", Napi::Function::New(env, Describe));
  return exports;
}

}  // namespace

NODE_API_MODULE(featlab_native, Init)
