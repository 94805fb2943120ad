#pragma once
// The audit log: one JSON line per admin action, appended to <data-dir>/audit.log and fsync'd
// before the action is answered. Lines never hold a secret (no key, no digest, no master key).
//
//   {"ts":"2026-11-29T08:00:00Z","who":"master","action":"key.create","target":"key_0123...",
//    "request_id":"req-...","peer":"127.0.0.1","detail":{...}}
//
// Thread-safe: writes are serialised; the file is opened with O_APPEND, so lines of several
// processes sharing the file do not interleave within a line. Blocking (one write and one
// fsync): call it off the event loop (KeyStore's worker or a pool).

#include <chrono>
#include <mutex>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace modelmux::govern {

struct AuditEntry {
  std::chrono::system_clock::time_point time;
  std::string who;     // "master" or a key id
  std::string action;  // "key.create", "key.update", "key.revoke", "cache.purge", ...
  std::string target;  // the key id acted on, if any
  std::string request_id;
  std::string peer;
  std::string detail_json;  // a JSON object (already secret-free), or empty
};

// The line written for `entry` (with the trailing newline). Pure, for tests.
[[nodiscard]] std::string FormatAuditLine(const AuditEntry& entry);

class AuditLog {
 public:
  explicit AuditLog(std::string path) : path_(std::move(path)) {}
  ~AuditLog();
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Appends and fsyncs one line. kUnavailable (code "audit_log_unavailable") when the file cannot
  // be opened or written: the admin action must then be refused, not done unrecorded.
  [[nodiscard]] Status Append(const AuditEntry& entry);
  [[nodiscard]] const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::mutex mu_;
  int fd_ = -1;
};

}  // namespace modelmux::govern
