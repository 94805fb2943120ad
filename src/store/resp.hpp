#pragma once
// RESP2, the Redis wire protocol: commands are encoded as arrays of bulk strings; replies are read
// by an incremental parser that accepts bytes split at any offset (a reply may arrive one byte at a
// time) and yields each complete top-level reply in order. Pure: no I/O, no clock.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace modelmux::store {

struct RedisReply {
  enum class Type { kNil, kString, kStatus, kInteger, kArray, kError } type = Type::kNil;
  std::string str;  // kString (bulk), kStatus ("OK"), kError ("WRONGTYPE ...")
  int64_t integer = 0;
  std::vector<RedisReply> elements;  // kArray

  [[nodiscard]] bool is_error() const { return type == Type::kError; }
  [[nodiscard]] bool is_nil() const { return type == Type::kNil; }
};

// Appends one command (`*N\r\n$len\r\narg\r\n...`) to `out`.
void AppendRespCommand(std::string& out, const std::vector<std::string>& args);
[[nodiscard]] std::string EncodeRespCommand(const std::vector<std::string>& args);

// Limits that keep a hostile or broken peer from making the parser allocate without bound.
struct RespLimits {
  int64_t max_bulk = 512LL << 20;  // Redis' own proto-max-bulk-len default
  int64_t max_array = 1LL << 24;
  size_t max_depth = 64;
  size_t max_line = 64 * 1024;  // status, error and length lines
};

class RespParser {
 public:
  explicit RespParser(RespLimits limits = {}) : limits_(limits) {}

  // Appends received bytes.
  void Feed(std::string_view bytes);
  // The next complete reply, nullopt when more bytes are needed, or an error (kInternal, code
  // "redis_protocol") for bytes that are not RESP2; after an error the stream is unusable.
  Result<std::optional<RedisReply>> Next();
  // Bytes received but not yet consumed by a complete reply.
  [[nodiscard]] size_t buffered() const { return buf_.size() - pos_; }

 private:
  struct Frame {
    RedisReply reply;
    int64_t remaining = 0;
  };
  // Hands a finished value to the frame above it; returns true when it completed a top-level
  // reply (left in `done_`).
  bool Complete(RedisReply reply);
  void Compact();

  RespLimits limits_;
  std::string buf_;
  size_t pos_ = 0;
  int64_t pending_bulk_ = -1;  // length of a bulk string whose header was read
  std::vector<Frame> stack_;
  std::optional<RedisReply> done_;
  bool failed_ = false;
};

// Reads "MOVED 3999 127.0.0.1:6381" / "ASK 3999 127.0.0.1:6381" error replies.
struct RedisRedirect {
  bool ask = false;
  uint16_t slot = 0;
  std::string address;  // host:port; host may be empty ("unknown endpoint": the sender's host)
};
[[nodiscard]] std::optional<RedisRedirect> ParseRedirect(const RedisReply& reply);

}  // namespace modelmux::store
