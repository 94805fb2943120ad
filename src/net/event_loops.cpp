#include "net/event_loops.hpp"

#include <sched.h>

namespace modelmux::net {
namespace {
thread_local int tls_loop_index = -1;
}

unsigned UsableCpus() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) {
    int n = CPU_COUNT(&set);
    if (n > 0) return static_cast<unsigned>(n);
  }
  unsigned hc = std::thread::hardware_concurrency();
  return hc ? hc : 1;
}

EventLoops::EventLoops(unsigned threads) {
  if (threads == 0) threads = UsableCpus();
  for (unsigned i = 0; i < threads; ++i) {
    // concurrency hint 1: each loop is run by exactly one thread, so Asio can skip locking.
    loops_.push_back(std::make_unique<boost::asio::io_context>(1));
    guards_.push_back(
        std::make_unique<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>(
            loops_.back()->get_executor()));
  }
}

EventLoops::~EventLoops() {
  Stop();
  Join();
}

void EventLoops::Start() {
  for (size_t i = 0; i < loops_.size(); ++i) {
    threads_.emplace_back([this, i] {
      tls_loop_index = static_cast<int>(i);
      loops_[i]->run();
      tls_loop_index = -1;
    });
  }
}

void EventLoops::Stop() {
  guards_.clear();
  for (auto& l : loops_) l->stop();
}

void EventLoops::Join() {
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

int EventLoops::CurrentLoopIndex() {
  return tls_loop_index;
}

}  // namespace modelmux::net
