#pragma once
// Single-flight: concurrent identical requests (one cache key) make one upstream call. The first
// caller of FlightGroup::JoinOrLead leads: it makes the call and publishes the answer as chunks
// (a stream chunk by chunk as it arrives; a non-stream answer as one chunk). Later callers follow:
// they read the same chunks from the start (a late joiner replays what was published so far, then
// waits for more), then the end or the leader's error.
//
// Lifetime of a key in the group:
//  - Fail(error): the error reaches the followers that joined (waiting or not yet reading); it is
//    never cached, and the key is free at once, so the next request leads anew.
//  - Finish(): followers get the end of the answer. The flight stays joinable (new joiners replay
//    the complete answer) until the leader handle is Released or destroyed, so the leader can
//    store the answer in the cache first and no request in between calls the upstream again.
//  - The leader handle destroyed without Finish or Fail (the leading request was cancelled or
//    threw): followers fail with kUpstreamError, code "leader_abandoned", and the key is free.
//
// Threading: the group and its flights are shared by every event loop. JoinOrLead, the leader's
// methods and Next may be called from any thread; state is guarded by mutexes that are never held
// across a co_await or while waking a follower. A waiting follower is resumed through a
// per-wait concurrent channel, which posts the resumption to the follower's own executor; its
// deadline timer lives on that executor too.
//
// Routing's use: look the cache up; on a miss JoinOrLead(key). A leader looks the cache up once
// more (a previous flight may have stored the answer between the first lookup and the join), then
// calls upstream, publishes, stores the answer in the cache, and Finishes. Requests whose policy
// has lookup off should not join flights (they want a fresh answer).

#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace modelmux::cache {

class FlightGroup;
class FlightLeader;
namespace detail {
struct FlightRegistry;
struct FlightWaiter;
}  // namespace detail

// The shared state of one upstream call. Followers hold it by shared_ptr while they read.
class Flight : public std::enable_shared_from_this<Flight> {
 public:
  using Clock = std::chrono::steady_clock;

  Flight(const Flight&) = delete;
  Flight& operator=(const Flight&) = delete;
  ~Flight();

  // Chunk number `index` (0-based), waiting for it while the leader is still running:
  //  - the chunk, once published (a late reader gets the published chunks at once);
  //  - nullopt once the flight finished and `index` is past the last chunk;
  //  - the leader's error once it failed (including kUpstreamError "leader_abandoned"), for
  //    every index past the chunks published before the failure;
  //  - kTimeout (code "single_flight_timeout") when `deadline` passes first; the flight goes on
  //    and a later Next may still succeed;
  //  - kCancelled when the awaiting coroutine is cancelled.
  // Resumes on the caller's executor. Keep the shared_ptr alive while awaiting.
  boost::asio::awaitable<Result<std::optional<std::string>>> Next(
      size_t index, Clock::time_point deadline = Clock::time_point::max());

  [[nodiscard]] const std::string& key() const { return key_; }
  // Callers that joined as followers so far.
  [[nodiscard]] size_t followers() const;
  [[nodiscard]] size_t chunks() const;

 private:
  friend class FlightGroup;
  friend class FlightLeader;
  enum class State { kRunning, kFinished, kFailed };

  Flight(std::string key, std::weak_ptr<detail::FlightRegistry> registry);

  void Publish(std::string chunk);
  void Finish();
  void Fail(Error error);
  // Removes this flight from its group (if it is still there).
  void Unregister();
  // Wakes and forgets every registered waiter. Called without mu_ held.
  static void Wake(std::vector<std::weak_ptr<detail::FlightWaiter>> waiters);

  const std::string key_;
  const std::weak_ptr<detail::FlightRegistry> registry_;
  mutable std::mutex mu_;
  State state_ = State::kRunning;    // guarded by mu_
  std::vector<std::string> chunks_;  // guarded by mu_
  std::optional<Error> error_;       // guarded by mu_
  // Weak: a wait is owned by its coroutine, so that a follower's channel never outlives its
  // event loop (a loop shut down destroys its waiting coroutines).
  std::vector<std::weak_ptr<detail::FlightWaiter>> waiters_;  // guarded by mu_
  size_t followers_ = 0;                                      // guarded by mu_
};

// The leader's side of a flight: move-only, one per flight. Destroying it without Finish or Fail
// fails the followers with "leader_abandoned". Not thread-safe itself: one request owns it.
class FlightLeader {
 public:
  FlightLeader(FlightLeader&& other) noexcept;
  FlightLeader& operator=(FlightLeader&& other) noexcept;
  FlightLeader(const FlightLeader&) = delete;
  FlightLeader& operator=(const FlightLeader&) = delete;
  ~FlightLeader();

  // Appends a chunk for the followers. Ignored after Finish or Fail.
  void Publish(std::string chunk);
  // The answer is complete. The key stays joinable (replaying the answer) until Release.
  void Finish();
  // The call failed: the followers get `error`, and the key is free at once.
  void Fail(Error error);
  // Frees the key (after Finish); implied by destruction. Abandons the flight if it is running.
  void Release();

  [[nodiscard]] const std::shared_ptr<Flight>& flight() const { return flight_; }

 private:
  friend class FlightGroup;
  explicit FlightLeader(std::shared_ptr<Flight> flight) : flight_(std::move(flight)) {}

  std::shared_ptr<Flight> flight_;  // null once released or moved from
};

class FlightGroup {
 public:
  struct Join {
    std::shared_ptr<Flight> flight;      // always set: followers read with flight->Next
    std::optional<FlightLeader> leader;  // set for the leader only

    [[nodiscard]] bool leading() const { return leader.has_value(); }
  };

  FlightGroup();
  FlightGroup(const FlightGroup&) = delete;
  FlightGroup& operator=(const FlightGroup&) = delete;
  // Flights outlive the group safely (they simply stop being joinable).
  ~FlightGroup();

  // Joins the flight for `key`, or starts one and returns its leader. Thread-safe.
  [[nodiscard]] Join JoinOrLead(const std::string& key);

  // Joinable flights (for metrics and tests).
  [[nodiscard]] size_t size() const;

 private:
  std::shared_ptr<detail::FlightRegistry> registry_;
};

}  // namespace modelmux::cache
