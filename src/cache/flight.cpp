#include "cache/flight.hpp"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/experimental/concurrent_channel.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <functional>
#include <unordered_map>

namespace modelmux::cache {

namespace asio = boost::asio;

namespace detail {

// One wait of one follower: a channel that the leader signals (from any thread) and that resumes
// the follower on its own executor. Capacity 1, so a signal sent before the follower starts to
// receive is kept; further signals are dropped (one wake-up is enough: the follower re-reads).
struct FlightWaiter {
  explicit FlightWaiter(const asio::any_io_executor& ex) : channel(ex, 1) {}
  asio::experimental::concurrent_channel<void(boost::system::error_code)> channel;
};

// The joinable flights, sharded by key hash so that unrelated keys do not contend.
struct FlightRegistry {
  static constexpr size_t kShards = 16;
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, std::shared_ptr<Flight>> flights;  // guarded by mu
  };
  std::array<Shard, kShards> shards;

  Shard& For(const std::string& key) { return shards[std::hash<std::string>{}(key) % kShards]; }
};

}  // namespace detail

namespace {

Error LeaderAbandoned() {
  Error e;
  e.kind = ErrorKind::kUpstreamError;
  e.message = "the request this one waited for ended without an answer";
  e.code = "leader_abandoned";
  return e;
}

Error FlightTimeout() {
  Error e;
  e.kind = ErrorKind::kTimeout;
  e.message = "timed out waiting for an identical request in flight";
  e.code = "single_flight_timeout";
  return e;
}

Error FlightCancelled() {
  Error e;
  e.kind = ErrorKind::kCancelled;
  e.message = "cancelled while waiting for an identical request in flight";
  e.code = "cancelled";
  return e;
}

}  // namespace

// ---- Flight ----

Flight::Flight(std::string key, std::weak_ptr<detail::FlightRegistry> registry)
    : key_(std::move(key)), registry_(std::move(registry)) {}

Flight::~Flight() = default;

size_t Flight::followers() const {
  std::lock_guard lock(mu_);
  return followers_;
}

size_t Flight::chunks() const {
  std::lock_guard lock(mu_);
  return chunks_.size();
}

void Flight::Wake(std::vector<std::weak_ptr<detail::FlightWaiter>> waiters) {
  for (const auto& weak : waiters) {
    if (auto w = weak.lock()) w->channel.try_send(boost::system::error_code{});
  }
}

void Flight::Publish(std::string chunk) {
  std::vector<std::weak_ptr<detail::FlightWaiter>> waiters;
  {
    std::lock_guard lock(mu_);
    if (state_ != State::kRunning) return;
    chunks_.push_back(std::move(chunk));
    waiters.swap(waiters_);
  }
  Wake(std::move(waiters));
}

void Flight::Finish() {
  std::vector<std::weak_ptr<detail::FlightWaiter>> waiters;
  {
    std::lock_guard lock(mu_);
    if (state_ != State::kRunning) return;
    state_ = State::kFinished;
    waiters.swap(waiters_);
  }
  Wake(std::move(waiters));
}

void Flight::Fail(Error error) {
  std::vector<std::weak_ptr<detail::FlightWaiter>> waiters;
  {
    std::lock_guard lock(mu_);
    if (state_ == State::kRunning) {
      state_ = State::kFailed;
      error_ = std::move(error);
      waiters.swap(waiters_);
    }
  }
  Unregister();  // a failure is never joinable: the next request leads anew
  Wake(std::move(waiters));
}

void Flight::Unregister() {
  std::shared_ptr<detail::FlightRegistry> registry = registry_.lock();
  if (!registry) return;
  std::shared_ptr<Flight> removed;  // released after the shard's lock
  auto& shard = registry->For(key_);
  std::lock_guard lock(shard.mu);
  auto it = shard.flights.find(key_);
  if (it != shard.flights.end() && it->second.get() == this) {
    removed = std::move(it->second);
    shard.flights.erase(it);
  }
}

asio::awaitable<Result<std::optional<std::string>>> Flight::Next(size_t index,
                                                                 Clock::time_point deadline) {
  std::shared_ptr<Flight> self = shared_from_this();  // alive across the suspensions
  asio::any_io_executor ex = co_await asio::this_coro::executor;
  bool timed_out = false;
  for (;;) {
    std::optional<Result<std::optional<std::string>>> out;
    std::shared_ptr<detail::FlightWaiter> waiter;
    {
      std::lock_guard lock(mu_);
      if (index < chunks_.size()) {
        out.emplace(std::optional<std::string>(chunks_[index]));
      } else if (state_ == State::kFinished) {
        out.emplace(std::optional<std::string>());
      } else if (state_ == State::kFailed) {
        out.emplace(*error_);
      } else if (timed_out) {
        out.emplace(FlightTimeout());
      } else {
        waiter = std::make_shared<detail::FlightWaiter>(ex);
        waiters_.push_back(waiter);
      }
    }
    if (out) co_return std::move(*out);

    // The deadline timer lives on this executor only; it signals through the thread-safe channel.
    asio::steady_timer timer(ex);
    if (deadline != Clock::time_point::max()) {
      timer.expires_at(deadline);
      timer.async_wait([weak = std::weak_ptr(waiter)](const boost::system::error_code& ec) {
        auto w = weak.lock();
        if (!ec && w) w->channel.try_send(asio::error::timed_out);
      });
    }
    auto [ec] = co_await waiter->channel.async_receive(asio::as_tuple(asio::use_awaitable));
    timer.cancel();
    if (!ec) continue;  // woken: re-read the state
    {
      std::lock_guard lock(mu_);
      std::erase_if(waiters_, [&](const std::weak_ptr<detail::FlightWaiter>& w) {
        auto live = w.lock();
        return !live || live == waiter;
      });
    }
    if (ec == asio::error::timed_out) {
      timed_out = true;  // one more look: an answer that arrived meanwhile still wins
      continue;
    }
    co_return FlightCancelled();
  }
}

// ---- FlightLeader ----

FlightLeader::FlightLeader(FlightLeader&& other) noexcept : flight_(std::move(other.flight_)) {}

FlightLeader& FlightLeader::operator=(FlightLeader&& other) noexcept {
  if (this != &other) {
    Release();
    flight_ = std::move(other.flight_);
  }
  return *this;
}

FlightLeader::~FlightLeader() {
  Release();
}

void FlightLeader::Publish(std::string chunk) {
  if (flight_) flight_->Publish(std::move(chunk));
}

void FlightLeader::Finish() {
  if (flight_) flight_->Finish();
}

void FlightLeader::Fail(Error error) {
  if (flight_) flight_->Fail(std::move(error));
}

void FlightLeader::Release() {
  if (!flight_) return;
  flight_->Fail(LeaderAbandoned());  // no effect on a finished or failed flight but unregistering
  flight_.reset();
}

// ---- FlightGroup ----

FlightGroup::FlightGroup() : registry_(std::make_shared<detail::FlightRegistry>()) {}

FlightGroup::~FlightGroup() = default;

FlightGroup::Join FlightGroup::JoinOrLead(const std::string& key) {
  auto& shard = registry_->For(key);
  std::lock_guard lock(shard.mu);
  auto it = shard.flights.find(key);
  if (it != shard.flights.end()) {
    std::shared_ptr<Flight> flight = it->second;
    {
      std::lock_guard flight_lock(flight->mu_);  // lock order: shard, then flight
      ++flight->followers_;
    }
    return Join{std::move(flight), std::nullopt};
  }
  std::shared_ptr<Flight> flight(new Flight(key, registry_));
  shard.flights.emplace(key, flight);
  return Join{flight, FlightLeader(flight)};
}

size_t FlightGroup::size() const {
  size_t n = 0;
  for (auto& shard : registry_->shards) {
    std::lock_guard lock(shard.mu);
    n += shard.flights.size();
  }
  return n;
}

}  // namespace modelmux::cache
