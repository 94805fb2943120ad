#pragma once
// Rate windows shared by every replica through Redis, with a local fallback.
//
// Two modes, one per use:
//  - kPaced (deployments): the GCRA schedule of resilience::RateLimiter, kept in Redis (the
//    "theoretical arrival time" of requests and of tokens, in microseconds). Every replica reads
//    and pushes the same schedule, so requests are paced evenly across all of them and any window
//    of the configured length sees at most the limit at the provider. A caller may be told to
//    wait (then send); past max_wait it is refused with retry_after.
//  - kSliding (keys): an exact sliding log (a sorted set of admissions scored by time, plus the
//    tokens of each): a request is admitted when, over the last `window`, one more request and
//    its tokens fit. Bursts are allowed up to the limit; no waiting: refused with retry_after =
//    when the oldest entries that block it leave the window.
// Every decision is one atomic Lua script (EVALSHA, EVAL on NOSCRIPT). Keys are versioned:
// `<prefix>:<scope>:{<id>}:<part>` with prefix "mm:v1:rl" (the {id} hash tag keeps one window's
// keys on one cluster slot), and expire a little after the window.
//
// Redis unreachable (a transport error or an open breaker): the decision is made by a local
// window of the same limits (RateLimiter for kPaced, an in-memory sliding log for kSliding) and
// counted in Stats::local_fallbacks; a request that could be served is never failed because of
// Redis. A ticket is settled or released where it was reserved (Ticket::shared).
//
// Tokens are reserved up front (estimate) and settled to actual usage afterwards.
// Thread-safe; Reserve/Settle/Release may be awaited from any executor. Time: kPaced uses the
// Redis server's clock (TIME) so replicas' clock skew does not matter, unless `clock` is set;
// kSliding uses `clock` (default system_clock).

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "resilience/rate_limiter.hpp"

namespace modelmux::store {
class RedisClient;
}

namespace modelmux::resilience {

struct SharedWindowOptions {
  enum class Mode { kPaced, kSliding };
  Mode mode = Mode::kPaced;
  std::string scope;  // "dep" (deployments), "key" (virtual keys)
  std::string id;     // e.g. "openai/gpt-4o-mini#0" or a key id; no secrets
  RateLimits limits;  // rpm/tpm per window; max_wait applies to kPaced only
  std::string prefix = "mm:v1:rl";
  // Time source. Unset: kPaced uses Redis TIME, kSliding system_clock::now.
  std::function<std::chrono::system_clock::time_point()> clock;
};

class SharedWindow {
 public:
  struct Ticket {
    bool admitted = false;
    std::chrono::milliseconds wait{0};         // admitted (kPaced): wait this long, then send
    std::chrono::milliseconds retry_after{0};  // refused: try again after this
    bool by_tokens = false;                    // refused because of the token limit
    bool shared = false;                       // decided in Redis (false: local fallback)
    int64_t tokens = 0;                        // tokens reserved
    std::string id;                            // the reservation's id (kSliding)
  };
  struct Stats {
    uint64_t shared = 0;           // decisions made in Redis
    uint64_t local_fallbacks = 0;  // decisions made locally because Redis failed
    uint64_t refused = 0;
  };

  // `redis` may be null: every decision is local (and not counted as a fallback).
  static std::shared_ptr<SharedWindow> Create(std::shared_ptr<store::RedisClient> redis,
                                              SharedWindowOptions options);
  ~SharedWindow();
  SharedWindow(const SharedWindow&) = delete;
  SharedWindow& operator=(const SharedWindow&) = delete;

  // Reserves one request and `tokens` tokens. Never fails: a refusal is a Ticket.
  boost::asio::awaitable<Ticket> Reserve(int64_t tokens);
  // Adjusts the reservation to `actual_tokens` (unused tokens given back, excess taken).
  boost::asio::awaitable<void> Settle(Ticket ticket, int64_t actual_tokens);
  // Gives the request and its tokens back (the request was never sent or failed).
  boost::asio::awaitable<void> Release(Ticket ticket);

  [[nodiscard]] bool limited() const { return options_.limits.rpm > 0 || options_.limits.tpm > 0; }
  [[nodiscard]] const SharedWindowOptions& options() const { return options_; }
  [[nodiscard]] Stats stats() const;
  // The Redis key names this window uses (for tests and operators).
  [[nodiscard]] std::string KeyName(std::string_view part) const;

 private:
  SharedWindow(std::shared_ptr<store::RedisClient> redis, SharedWindowOptions options);
  Ticket LocalReserve(int64_t tokens);
  void LocalSettle(const Ticket& t, int64_t actual);
  void LocalRelease(const Ticket& t);
  std::string NewId();
  [[nodiscard]] std::vector<std::string> PacedKeys() const;
  [[nodiscard]] std::vector<std::string> SlidingKeys() const;
  boost::asio::awaitable<void> Adjust(const char* script, std::vector<std::string> keys,
                                      std::vector<std::string> args);
  [[nodiscard]] int64_t NowMicros() const;

  std::shared_ptr<store::RedisClient> redis_;
  const SharedWindowOptions options_;
  RateLimiter paced_;  // the local kPaced fallback
  struct Entry {
    int64_t at_us;
    int64_t tokens;
    std::string id;
  };
  mutable std::mutex mu_;
  std::deque<Entry> log_;   // the local kSliding log, guarded by mu_
  int64_t log_tokens_ = 0;  // guarded by mu_
  uint64_t next_id_ = 0;    // guarded by mu_
  uint64_t id_salt_ = 0;
  std::atomic<uint64_t> shared_{0}, fallbacks_{0}, refused_{0};
};

}  // namespace modelmux::resilience
