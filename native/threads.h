// Threads: a pool kept for the row lanes of one member's pass, and a call's members split over threads (the BLAS single-threaded meanwhile).
#pragma once

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>
#include "openblas_threads.h"

namespace {

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

// Each JavaScript thread (the main one, each worker) its own pool: two workers never share one.
LanePool& lanePool(int threads) {
  thread_local std::unique_ptr<LanePool> pool;
  if (!pool || pool->helpers() != threads - 1) pool = std::make_unique<LanePool>(threads - 1);
  return *pool;
}

// Runs work(t) for t = 0 … threads − 1 on that many threads, the BLAS single-threaded meanwhile.
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

// The contiguous block of `count` items that thread t of `threads` takes.
std::pair<size_t, size_t> blockOf(size_t count, int t, int threads) { return {count * t / threads, count * (t + 1) / threads}; }

}  // namespace
