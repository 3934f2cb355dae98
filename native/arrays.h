// Typed arrays handed over from JavaScript: their data, length and float type; copies to fp64 and back.
#pragma once

#include <napi.h>
#include <cstring>
#include <string>
#include <vector>

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

}  // namespace
