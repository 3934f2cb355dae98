// float32 convolutions on oneDNN (Debian's libdnnl, the library PyTorch's CPU convolutions use) where the
// addon is built with it (FEATLAB_DNNL): forward, backward to the input and backward to the weights of
// channels-last images (oneDNN's nhwc) with featlab's weights C_out × (k·k·C_in) (oneDNN's ohwi).
// Primitives are made once per shape and thread and kept; weights are reordered to the layout oneDNN
// picks when it differs. float64 convolutions stay on im2col + the BLAS gemm (oneDNN has none).
#pragma once

#include <napi.h>
#include <string>

#ifdef FEATLAB_DNNL
#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>
#include <map>
#include <memory>
#include <tuple>
#include <vector>
#endif

#include "arrays.h"
#include "abi_check.h"
#include "cnn_kernels.h"

namespace {

#ifdef FEATLAB_DNNL

using DnnlKey = std::tuple<int, int, int, int, int, int, int, int>;

// One convolution shape's three primitives with the memory objects they read (handles set per call).
struct DnnlConvolution {
  dnnl::convolution_forward forward;
  dnnl::convolution_backward_data backwardData;
  dnnl::convolution_backward_weights backwardWeights;
  dnnl::memory images, outputs, userWeights;
  // The weights (or their gradient) in the layout each primitive chose, and whether it is featlab's.
  dnnl::memory forwardWeights, backwardDataWeights, weightGradient;
  bool forwardReorder, backwardDataReorder, weightGradientReorder;
  std::vector<float> sum;  // backward weights when the gradient accumulates over chunks
};

struct DnnlThreadState {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  std::map<DnnlKey, std::unique_ptr<DnnlConvolution>> convolutions;
};

// Each thread (the main one, each worker) its own engine, stream and primitives.
DnnlThreadState& dnnlState() {
  thread_local std::unique_ptr<DnnlThreadState> state;
  if (!state) state = std::make_unique<DnnlThreadState>();
  return *state;
}

DnnlConvolution& dnnlConvolution(const ConvGeometry& g, int outChannels) {
  using dnnl::memory;
  DnnlThreadState& s = dnnlState();
  const DnnlKey key{g.n, g.height, g.width, g.channels, outChannels, g.kernel, g.stride, g.padding};
  auto found = s.convolutions.find(key);
  if (found != s.convolutions.end()) return *found->second;
  const auto f32 = memory::data_type::f32;
  const memory::dims source{g.n, g.channels, g.height, g.width}, destination{g.n, outChannels, g.outHeight, g.outWidth};
  const memory::dims weights{outChannels, g.channels, g.kernel, g.kernel}, strides{g.stride, g.stride};
  // The right and bottom padding that gives featlab's output size (its floor may drop a last partial window).
  const memory::dims left{g.padding, g.padding};
  const memory::dims right{(g.outHeight - 1) * g.stride + g.kernel - g.height - g.padding, (g.outWidth - 1) * g.stride + g.kernel - g.width - g.padding};
  const memory::desc images(source, f32, memory::format_tag::nhwc), outputs(destination, f32, memory::format_tag::nhwc);
  const memory::desc user(weights, f32, memory::format_tag::ohwi), chosen(weights, f32, memory::format_tag::any);
  const auto algorithm = dnnl::algorithm::convolution_direct;
  dnnl::convolution_forward::primitive_desc forward(
      dnnl::convolution_forward::desc(dnnl::prop_kind::forward_training, algorithm, images, chosen, outputs, strides, left, right), s.engine);
  dnnl::convolution_backward_data::primitive_desc backwardData(
      dnnl::convolution_backward_data::desc(algorithm, images, chosen, outputs, strides, left, right), s.engine, forward);
  dnnl::convolution_backward_weights::primitive_desc backwardWeights(
      dnnl::convolution_backward_weights::desc(algorithm, images, chosen, outputs, strides, left, right), s.engine, forward);
  auto c = std::make_unique<DnnlConvolution>();
  c->forward = dnnl::convolution_forward(forward);
  c->backwardData = dnnl::convolution_backward_data(backwardData);
  c->backwardWeights = dnnl::convolution_backward_weights(backwardWeights);
  c->images = memory(images, s.engine, nullptr);
  c->outputs = memory(outputs, s.engine, nullptr);
  c->userWeights = memory(user, s.engine, nullptr);
  c->forwardReorder = forward.weights_desc() != user;
  c->backwardDataReorder = backwardData.weights_desc() != user;
  c->weightGradientReorder = backwardWeights.diff_weights_desc() != user;
  c->forwardWeights = c->forwardReorder ? memory(forward.weights_desc(), s.engine) : c->userWeights;
  c->backwardDataWeights = c->backwardDataReorder ? memory(backwardData.weights_desc(), s.engine) : c->userWeights;
  c->weightGradient = c->weightGradientReorder ? memory(backwardWeights.diff_weights_desc(), s.engine) : c->userWeights;
  return *s.convolutions.emplace(key, std::move(c)).first->second;
}

enum DnnlPass { DNNL_FORWARD = 0, DNNL_BACKWARD_DATA = 1, DNNL_BACKWARD_WEIGHTS = 2 };

// forward: c = m·conv(a = images, b = weights); backward data: c = m·convᵀ(a = output gradient, b =
// weights); backward weights: c (+)= m·(a = images ⋆ b = output gradient).
void dnnlConvolve(const ConvGeometry& g, int outChannels, int pass, float* a, float* b, float* c, float multiplier, bool accumulate, int threads) {
  DnnlThreadState& s = dnnlState();
  DnnlConvolution& conv = dnnlConvolution(g, outChannels);
  omp_set_num_threads(threads);
  size_t length = 0;
  if (pass == DNNL_FORWARD) {
    conv.images.set_data_handle(a);
    conv.userWeights.set_data_handle(b);
    conv.outputs.set_data_handle(c);
    if (conv.forwardReorder) dnnl::reorder(conv.userWeights, conv.forwardWeights).execute(s.stream, conv.userWeights, conv.forwardWeights);
    conv.forward.execute(s.stream, {{DNNL_ARG_SRC, conv.images}, {DNNL_ARG_WEIGHTS, conv.forwardWeights}, {DNNL_ARG_DST, conv.outputs}});
    length = size_t(g.n) * g.outHeight * g.outWidth * outChannels;
  } else if (pass == DNNL_BACKWARD_DATA) {
    conv.outputs.set_data_handle(a);
    conv.userWeights.set_data_handle(b);
    conv.images.set_data_handle(c);
    if (conv.backwardDataReorder) dnnl::reorder(conv.userWeights, conv.backwardDataWeights).execute(s.stream, conv.userWeights, conv.backwardDataWeights);
    conv.backwardData.execute(s.stream, {{DNNL_ARG_DIFF_DST, conv.outputs}, {DNNL_ARG_WEIGHTS, conv.backwardDataWeights}, {DNNL_ARG_DIFF_SRC, conv.images}});
    length = size_t(g.n) * g.height * g.width * g.channels;
  } else {
    length = size_t(outChannels) * g.kernel * g.kernel * g.channels;
    if (accumulate) conv.sum.resize(length);
    conv.images.set_data_handle(a);
    conv.outputs.set_data_handle(b);
    conv.userWeights.set_data_handle(accumulate ? conv.sum.data() : c);
    conv.backwardWeights.execute(s.stream, {{DNNL_ARG_SRC, conv.images}, {DNNL_ARG_DIFF_DST, conv.outputs}, {DNNL_ARG_DIFF_WEIGHTS, conv.weightGradient}});
    if (conv.weightGradientReorder) dnnl::reorder(conv.weightGradient, conv.userWeights).execute(s.stream, conv.weightGradient, conv.userWeights);
  }
  s.stream.wait();
  if (pass == DNNL_BACKWARD_WEIGHTS && accumulate) {
    for (size_t i = 0; i < length; i++) c[i] += multiplier * conv.sum[i];
    return;
  }
  if (multiplier != 1)
    for (size_t i = 0; i < length; i++) c[i] *= multiplier;
}

#endif

// Which library runs float32 convolutions, for `featlab doctor`.
std::string convolutionLibrary() {
#ifdef FEATLAB_DNNL
  const dnnl_version_t* v = dnnl_version();
  return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch) + " (" + (v->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP" : "other runtime") + ")";
#else
  return "im2col + BLAS gemm (built without oneDNN: apt-get install libdnnl-dev, then npm run build:native)";
#endif
}

#ifdef FEATLAB_DNNL
// convolve(geometry, outChannels, pass, a, b, c, multiplier, accumulate, threads): see dnnlConvolve;
// float32 arrays only. Exported only where the addon has oneDNN (elsewhere callers use im2col + gemm).
Napi::Value Convolve(const Napi::CallbackInfo& info) {
  auto env = info.Env();
  if (!info[0].IsObject()) refuse("the convolution geometry is not an object");
  else checkFieldsOnce(info[0].As<Napi::Object>(), "conv", abi::conv::fields, CONV_CHECKED);
  if (argumentsRefused(env, "convolve")) return env.Undefined();
  const ConvGeometry g = geometryOf(info[0].As<Napi::Object>());
  const int outChannels = info[1].As<Napi::Number>().Int32Value(), pass = info[2].As<Napi::Number>().Int32Value();
  Array a = arrayOf(info[3]), b = arrayOf(info[4]), c = arrayOf(info[5]);
  if (!a.valid || !b.valid || !c.valid || !a.isFloat32 || !b.isFloat32 || !c.isFloat32) {
    fail(env, "convolve: the arrays must be Float32Arrays");
    return env.Undefined();
  }
  const size_t images = size_t(g.n) * g.height * g.width * g.channels, outputs = size_t(g.n) * g.outHeight * g.outWidth * outChannels;
  const size_t weights = size_t(outChannels) * g.kernel * g.kernel * g.channels;
  const size_t need[3][3] = {{images, weights, outputs}, {outputs, weights, images}, {images, outputs, weights}};
  if (pass < 0 || pass > 2 || a.length < need[pass][0] || b.length < need[pass][1] || c.length < need[pass][2]) {
    fail(env, "convolve: an array is shorter than its shape, or the pass is not 0, 1 or 2");
    return env.Undefined();
  }
  try {
    dnnlConvolve(g, outChannels, pass, static_cast<float*>(a.data), static_cast<float*>(b.data), static_cast<float*>(c.data), float(info[6].As<Napi::Number>().DoubleValue()),
                 info[7].As<Napi::Boolean>(), std::max(1, info[8].As<Napi::Number>().Int32Value()));
  } catch (const dnnl::error& e) {
    fail(env, std::string("convolve: oneDNN: ") + e.what());
    return env.Undefined();
  }
  return env.Undefined();
}
#endif

}  // namespace
