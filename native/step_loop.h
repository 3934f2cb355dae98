// The MLP family's many-steps training call (src/models/mlp/manySteps.ts drives it): the trainer's step rule and stop rules, many steps per call.
#pragma once

#include <napi.h>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <string>
#include <vector>
#include "abi.generated.h"
#include "abi_check.h"
#include "arrays.h"
#include "mlp_kernels.h"
#include "threads.h"

namespace {

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
  double misfitAllowed = 0;  // points that may stay misfitted
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
  checkFieldsOnce(c, "control", f::fields, CONTROL_CHECKED);
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
  ctl.misfitAllowed = numberOf(c, f::misfitAllowed);
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

// Whether at most misfitAllowed training points are misfitted by member k's outputs (the interpolation
// rule's test at 0, the target accuracy rule's above).
template <typename T>
bool fitsEnoughPoints(const Pass<T>& p, const Control& c, int k, int outW) {
  const T* out = p.outputs + size_t(k) * p.n * outW;
  const double* y = c.misfitTargets;
  double misfits = 0;
  for (int i = 0; i < p.n; i++) {
    bool fitted = true;
    if (c.misfitKind == abi::MISFIT_SIGNS) {
      fitted = double(out[size_t(i) * outW]) * y[i] > 0;
    } else if (c.misfitKind == abi::MISFIT_CLASSES) {
      int best = 0;
      for (int j = 1; j < outW; j++) if (out[size_t(i) * outW + j] > out[size_t(i) * outW + best]) best = j;
      fitted = best == int(y[i]);
    } else {
      for (int j = 0; j < outW; j++) if (std::abs(double(out[size_t(i) * outW + j]) - y[size_t(i) * outW + j]) > c.misfitTolerance) fitted = false;
    }
    if (!fitted && ++misfits > c.misfitAllowed) return false;
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
  if (c.misfitKind != abi::MISFIT_OFF && fitsEnoughPoints(p, c, k, net.widths[net.layers])) return true;
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
// The members a call trains, and the contiguous block of them that thread t of `threads` takes.
std::vector<int> activeMembers(int K, const uint8_t* active) {
  std::vector<int> members;
  for (int k = 0; k < K; k++) if (!active || active[k]) members.push_back(k);
  return members;
}

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

}  // namespace
