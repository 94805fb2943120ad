#pragma once
// The asynchronous Redis client shared by the cache, the shared rate windows and the budgets:
// RESP2 over TCP or TLS (rediss://), a pipelined connection pool per node, AUTH (with an ACL user)
// and SELECT on connect, short command timeouts, automatic reconnection, a breaker per node, and
// Redis Cluster (hash-slot routing, CLUSTER SLOTS, MOVED and ASK redirects).
//
// Threading: a RedisClient is thread-safe. Its state lives on its own strand (made from the
// executor given to Create); every coroutine below may be awaited from any executor or thread
// and resumes on the awaiting coroutine's executor. One client per process is the intended use.
//
// Errors: a reply that Redis itself sent as an error (WRONGTYPE, NOSCRIPT, ...) is a successful
// Result holding a RedisReply of type kError. Result errors are transport failures only:
// kUnavailable with code "redis_unavailable" (connection refused or lost, AUTH refused, breaker
// open) and kTimeout with code "redis_timeout" (no reply within command_timeout; the connection
// is closed, since later replies on it would be misaligned). Only those count toward the breaker.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "net/http_client.hpp"
#include "store/resp.hpp"

namespace modelmux::store {

struct RedisOptions {
  // "host:port" of each node to start from; several seeds mean a cluster.
  std::vector<std::string> seeds;
  bool tls = false;  // rediss://
  net::TlsOptions tls_options;
  std::string username, password;  // AUTH [username] password; empty password: no AUTH
  int db = 0;                      // SELECT db (not in cluster mode)
  std::chrono::milliseconds connect_timeout{500}, command_timeout{250};
  size_t pool_size = 4;  // connections per node, each pipelining many commands
  // Consecutive transport failures on a node that open its breaker; while open, commands to that
  // node fail fast (kUnavailable) and a background PING probes it every `breaker_open`.
  int breaker_failures = 5;
  std::chrono::milliseconds breaker_open{2000};
  // Set when several seeds are given, or found at the first use (INFO cluster) or on a MOVED.
  bool cluster = false;
};

// Parses "redis://[user:pass@]host:port[/db]", "rediss://..." (TLS), or a comma-separated list of
// such URLs (or of bare "host:port" after the first) = cluster seeds. Errors never repeat the
// password.
[[nodiscard]] Result<RedisOptions> ParseRedisUrl(std::string_view urls);

// CRC16/XMODEM of the key (or of its first non-empty {hashtag}) mod 16384.
[[nodiscard]] uint16_t RedisHashSlot(std::string_view key);

class RedisClient {
 public:
  struct Stats {
    uint64_t commands = 0;  // commands asked for (each command of a pipeline counts)
    uint64_t errors = 0;    // calls that failed with a transport error (incl. breaker fast-fail)
    uint64_t timeouts = 0;  // calls that timed out
    uint64_t breaker_opens = 0;  // times a node's breaker opened
    uint64_t moved = 0;          // MOVED redirects followed
    uint64_t ask = 0;            // ASK redirects followed
    uint64_t reconnects = 0;     // connections opened to replace a lost one
  };

  // Never fails: a bad TLS setup or unreachable seed shows up as errors of the calls.
  static std::shared_ptr<RedisClient> Create(boost::asio::any_io_executor ex, RedisOptions options);
  ~RedisClient();
  RedisClient(const RedisClient&) = delete;
  RedisClient& operator=(const RedisClient&) = delete;

  // Routed by args[1] as the key in cluster mode (any node for keyless commands such as PING,
  // INFO, SCRIPT).
  boost::asio::awaitable<Result<RedisReply>> Command(std::vector<std::string> args);
  boost::asio::awaitable<Result<RedisReply>> CommandForKey(std::string key,
                                                           std::vector<std::string> args);
  // EVALSHA with the script's SHA1; EVAL when the server answers NOSCRIPT. Routed by keys[0].
  boost::asio::awaitable<Result<RedisReply>> Eval(std::string script, std::vector<std::string> keys,
                                                  std::vector<std::string> args);
  // Sends all commands on one connection of the node owning the first command's key (they must
  // share a slot in cluster mode); one reply per command, in order. A MOVED or ASK reply to one
  // of them is followed for that command alone.
  boost::asio::awaitable<Result<std::vector<RedisReply>>> Pipeline(
      std::vector<std::vector<std::string>> commands);

  // The master nodes ("host:port"): the slot owners in cluster mode, else the one server.
  boost::asio::awaitable<Result<std::vector<std::string>>> Masters();
  // Runs commands on a named node (from Masters()), no redirects followed (e.g. SCAN, DBSIZE).
  boost::asio::awaitable<Result<std::vector<RedisReply>>> PipelineOnNode(
      std::string node, std::vector<std::vector<std::string>> commands);

  // True while no node's breaker is open.
  [[nodiscard]] bool healthy() const;
  [[nodiscard]] Stats stats() const;
  [[nodiscard]] bool cluster() const;

  struct Impl;

 private:
  explicit RedisClient(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;
};

}  // namespace modelmux::store
