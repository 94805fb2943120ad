#pragma once
// One Asio event loop per usable core, each run by its own thread. Servers bind one acceptor per
// loop (SO_REUSEPORT) and per-loop state (connection pools, metric shards) is looked up through
// CurrentLoopIndex().

#include <boost/asio/io_context.hpp>
#include <memory>
#include <thread>
#include <vector>

namespace modelmux::net {

class EventLoops {
 public:
  // threads == 0: the number of CPUs in this process's affinity mask.
  explicit EventLoops(unsigned threads = 0);
  ~EventLoops();
  EventLoops(const EventLoops&) = delete;
  EventLoops& operator=(const EventLoops&) = delete;

  [[nodiscard]] size_t size() const { return loops_.size(); }
  [[nodiscard]] boost::asio::io_context& loop(size_t i) { return *loops_[i]; }

  // Starts one thread per loop; returns at once.
  void Start();
  // Lets loops run out of work / stops them, and joins the threads.
  void Stop();
  void Join();

  // Index of the loop the calling thread runs, or -1 outside of any loop thread.
  [[nodiscard]] static int CurrentLoopIndex();

 private:
  std::vector<std::unique_ptr<boost::asio::io_context>> loops_;
  std::vector<std::thread> threads_;
  std::vector<
      std::unique_ptr<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>>>
      guards_;
};

// CPUs in the affinity mask of this process (at least 1).
[[nodiscard]] unsigned UsableCpus();

}  // namespace modelmux::net
