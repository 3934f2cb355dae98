// Each call's objects checked against native/abi.json (abi.generated.h) before anything is read or computed: unknown or missing fields, wrong kinds, unknown codes, arrays of another float type.
#pragma once

#include <napi.h>
#include <string>
#include "abi.generated.h"
#include "arrays.h"
#include "elementwise.h"

namespace {

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

// The objects a model builds once and passes at every call (its batch and gradients, a training
// call's control, the kernels' one evaluation object) are checked the first time only: one that passed keeps a type tag of its kind, and
// a later call with it skips the check (which would otherwise cost more than a small net's pass).
constexpr napi_type_tag BATCH_CHECKED = {0x666561746c616231ULL, 0x6162692d62617463ULL};
constexpr napi_type_tag GRADIENTS_CHECKED = {0x666561746c616232ULL, 0x6162692d67726164ULL};
constexpr napi_type_tag CONTROL_CHECKED = {0x666561746c616233ULL, 0x6162692d636f6e74ULL};
constexpr napi_type_tag EVALUATION_CHECKED = {0x666561746c616234ULL, 0x6162692d6576616cULL};

template <int N>
void checkFieldsOnce(const Napi::Object& o, const char* object, const abi::Field (&fields)[N], const napi_type_tag& tag) {
  napi_env env = o.Env();
  bool checked = false;
  if (napi_check_object_type_tag(env, o, &tag, &checked) == napi_ok && checked) return;
  bool clean = argumentError.empty();
  checkFields(o, object, fields, N);
  if (clean && argumentError.empty()) napi_type_tag_object(env, o, &tag);
}

// A loss code (native/abi.json), or NO_LOSS for null (a forward pass).
int lossOf(const Napi::Value& v) {
  if (v.IsNull()) return NO_LOSS;
  int code = codeIndex(v, abi::lossNames, abi::lossCount);
  if (code < 0) refuse("the loss is not one of native/abi.json's codes.loss");
  return code;
}

}  // namespace
