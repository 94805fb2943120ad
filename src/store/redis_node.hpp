#pragma once
// Internals of RedisClient (not for other layers): a pipelined connection, and a node = a pool of
// connections with a breaker. Everything here runs on the client's strand; nothing is locked.

#include <atomic>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/redis.hpp"
#include "store/resp.hpp"

namespace modelmux::store::detail {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;
using Strand = asio::strand<asio::any_io_executor>;

// What every node and connection of one client shares.
struct Shared {
  Shared(asio::any_io_executor ex, RedisOptions o);
  Strand strand;
  RedisOptions options;
  std::unique_ptr<asio::ssl::context> tls;
  std::string tls_error;  // set when the TLS context could not be set up
  std::atomic<uint64_t> commands{0}, errors{0}, timeouts{0}, breaker_opens{0}, moved{0}, ask{0},
      reconnects{0};
  std::atomic<int> open_breakers{0};
};

[[nodiscard]] Error RedisUnavailable(std::string message);
[[nodiscard]] Error RedisTimeout(std::string message);
[[nodiscard]] bool IsTimeout(const Error& e);

using Replies = std::vector<RedisReply>;

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<Shared> shared, std::string host, std::string port);
  // Starts connecting (TCP, TLS, AUTH, SELECT); commands sent meanwhile wait in the queue.
  void Start();
  // Queues `payload` (one or more encoded commands) and waits for `replies` replies. Waits up to
  // command_timeout (plus what is left of the connect timeout while connecting).
  asio::awaitable<Result<Replies>> Send(std::string payload, size_t replies);
  [[nodiscard]] bool dead() const { return state_ == State::kDead; }
  // Fails every waiting command with `why` and closes the socket.
  void Close(const Error& why);

 private:
  enum class State { kConnecting, kReady, kDead };
  struct Pending {
    explicit Pending(const Strand& s, size_t n) : expected(n), timer(s) {}
    size_t expected;
    Replies replies;
    std::optional<Error> error;
    bool done = false;
    Clock::time_point deadline;
    asio::steady_timer timer;
  };

  static asio::awaitable<void> Run(std::shared_ptr<Connection> self);
  static asio::awaitable<void> Reader(std::shared_ptr<Connection> self);
  static asio::awaitable<void> Writer(std::shared_ptr<Connection> self);
  asio::awaitable<Status> Hello();
  void Deliver(RedisReply reply);
  void KickWriter();
  boost::beast::tcp_stream& Tcp();

  std::shared_ptr<Shared> shared_;
  std::string host_, port_;
  State state_ = State::kConnecting;
  Clock::time_point connect_deadline_;
  std::optional<boost::beast::tcp_stream> tcp_;
  std::optional<asio::ssl::stream<boost::beast::tcp_stream>> tls_;
  RespParser parser_;
  std::string wbuf_, sending_;
  bool writing_ = false;
  std::deque<std::shared_ptr<Pending>> inflight_;
};

class Node : public std::enable_shared_from_this<Node> {
 public:
  Node(std::shared_ptr<Shared> shared, std::string address);
  [[nodiscard]] const std::string& address() const { return address_; }
  [[nodiscard]] const std::string& host() const { return host_; }
  // Sends on one pooled connection; fails fast while the breaker is open.
  asio::awaitable<Result<Replies>> Execute(std::string payload, size_t replies);
  // Closes every connection and stops the probe (the client is going away).
  void Shutdown();

 private:
  std::shared_ptr<Connection> Pick();
  void RecordSuccess();
  void RecordFailure();
  static asio::awaitable<void> Probe(std::shared_ptr<Node> self);

  std::shared_ptr<Shared> shared_;
  std::string address_, host_, port_;
  std::vector<std::shared_ptr<Connection>> conns_;
  size_t next_ = 0;
  int failures_ = 0;
  bool open_ = false;
  bool shutdown_ = false;
  asio::steady_timer probe_timer_;
};

}  // namespace modelmux::store::detail
