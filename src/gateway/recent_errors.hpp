#pragma once
// The latest failed requests, for the dashboard's error table and GET /admin/errors: a bounded
// ring of the newest N entries (older ones are overwritten). Thread-safe: any event loop may push
// while another reads. Free text (message, model) is masked with text::MaskSecrets and shortened
// on the way in, so that what the ring holds can be shown to an admin as it is.

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "telemetry/request_log.hpp"

namespace modelmux::gateway {

struct FailedRequest {
  int64_t unix_ms = 0;  // when the request arrived
  std::string request_id;
  std::string method;
  std::string path;
  std::string model;     // as the caller named it
  std::string provider;  // the provider that failed last, if any
  int status = 0;        // the HTTP status the caller got (200 for a stream cut mid-way)
  std::string code;      // our error code ("rate_limited", "stream_cut", ...)
  std::string message;   // masked, at most kMaxMessageBytes
  double latency_s = 0;
};

class RecentErrors {
 public:
  static constexpr size_t kMaxMessageBytes = 300;
  static constexpr size_t kMaxFieldBytes = 128;

  // `capacity`: how many entries are kept (at least 1).
  explicit RecentErrors(size_t capacity = 100);
  RecentErrors(const RecentErrors&) = delete;
  RecentErrors& operator=(const RecentErrors&) = delete;

  // Adds `entry` as the newest one (masking and shortening its free text first).
  void Push(FailedRequest entry);
  // Adds a finished request when it failed: an HTTP status >= 400, or an error code (a stream
  // that ended with an error after its 200). Returns whether it was added.
  bool Record(const telemetry::RequestRecord& r);

  // Up to `limit` entries, newest first.
  [[nodiscard]] std::vector<FailedRequest> Latest(size_t limit) const;
  // Failed requests pushed since start (including those overwritten since).
  [[nodiscard]] uint64_t total() const;
  [[nodiscard]] size_t capacity() const { return ring_.size(); }

 private:
  mutable std::mutex mu_;
  std::vector<FailedRequest> ring_;
  size_t next_ = 0;  // where the next entry goes
  size_t size_ = 0;  // entries held (<= capacity)
  uint64_t total_ = 0;
};

// The entries as a JSON array of objects: {"time_ms","request_id","method","path","model",
// "provider","status","code","message","latency_ms"}.
[[nodiscard]] std::string FailedRequestsJson(const std::vector<FailedRequest>& entries);

// `text` masked (text::MaskSecrets) and cut to at most `max` bytes at a UTF-8 character boundary,
// with "…" appended when cut.
[[nodiscard]] std::string MaskAndShorten(std::string_view text, size_t max);

}  // namespace modelmux::gateway
