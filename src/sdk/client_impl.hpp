#pragma once
// The inside of modelmux::Client: the event loops, the configuration snapshot, the router, the
// embedded simulator, and the registry of calls in flight (so that destruction can cancel them).

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "modelmux/client.hpp"
#include "net/event_loops.hpp"
#include "net/server.hpp"
#include "routing/config.hpp"
#include "routing/router.hpp"
#include "sim/simulator.hpp"

namespace modelmux::sdk {

// Hidden: the class is nested in the exported Client, but nothing outside the library uses it.
struct __attribute__((visibility("hidden"))) Client::Impl {
  ~Impl();

  // Runs `task` on the next loop (round robin), registered so that the destructor can cancel it.
  // False (and `task` dropped unstarted) once the Client is being destroyed.
  bool Launch(boost::asio::awaitable<void> task);
  // True on one of this Client's loop threads.
  [[nodiscard]] bool OnLoopThread() const;
  // A request id unique to this Client: "sdk-<client>-<n>".
  [[nodiscard]] std::string NextRequestId();

  std::shared_ptr<const routing::Config> config;
  std::shared_ptr<const routing::Router> router;
  std::string simulator_url;
  std::string id_prefix;

  // Declared before what runs on them: destroyed last.
  std::unique_ptr<net::EventLoops> loops;
  std::vector<std::thread::id> loop_threads;
  std::unique_ptr<sim::Simulator> simulator;
  std::unique_ptr<net::Server> sim_server;

 private:
  struct Call {
    boost::asio::cancellation_signal signal;
    size_t loop = 0;
    bool done = false;  // touched only on the call's loop thread
  };
  void Finished(uint64_t id);
  void CancelAll();
  // Runs a no-op on every loop and waits for it: everything posted before has run.
  void Barrier();

  std::atomic<uint64_t> next_loop_{0};
  std::atomic<uint64_t> next_request_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  bool closing_ = false;
  uint64_t next_call_ = 0;
  std::map<uint64_t, std::shared_ptr<Call>> calls_;
};

// The call coroutines (calls.cpp). Each runs `done` exactly once unless its frame is destroyed.
boost::asio::awaitable<void> ChatTask(std::shared_ptr<const routing::Router> router,
                                      ChatRequest request, RequestContext ctx, net::Headers forward,
                                      Client::ChatCallback done);
boost::asio::awaitable<void> StreamTask(std::shared_ptr<const routing::Router> router,
                                        ChatRequest request, RequestContext ctx,
                                        net::Headers forward, Client::ChunkCallback on_chunk,
                                        Client::ChatCallback done);

// Runs `done` with `error` (a request refused before it started) on the loop, like any answer.
boost::asio::awaitable<void> FailTask(Error error, Client::ChatCallback done);

// Errors the SDK itself produces.
[[nodiscard]] Error CancelledError(std::string message);
[[nodiscard]] Error BlockingInCallbackError();

}  // namespace modelmux::sdk
