#include "govern/audit.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "telemetry/request_log.hpp"

namespace modelmux::govern {

namespace {

std::string Iso8601(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

Error Unavailable(const std::string& path, int err) {
  Error e;
  e.kind = ErrorKind::kUnavailable;
  e.code = "audit_log_unavailable";
  e.message = "the audit log " + path + " cannot be written: " + std::strerror(err);
  return e;
}

}  // namespace

std::string FormatAuditLine(const AuditEntry& e) {
  using telemetry::JsonEscape;
  std::string line = R"({"ts":")" + Iso8601(e.time) + R"(","who":")" + JsonEscape(e.who) +
                     R"(","action":")" + JsonEscape(e.action) + '"';
  if (!e.target.empty()) line += R"(,"target":")" + JsonEscape(e.target) + '"';
  if (!e.request_id.empty()) line += R"(,"request_id":")" + JsonEscape(e.request_id) + '"';
  if (!e.peer.empty()) line += R"(,"peer":")" + JsonEscape(e.peer) + '"';
  if (!e.detail_json.empty()) line += R"(,"detail":)" + e.detail_json;
  line += "}\n";
  return line;
}

AuditLog::~AuditLog() {
  if (fd_ >= 0) ::close(fd_);
}

Status AuditLog::Append(const AuditEntry& entry) {
  const std::string line = FormatAuditLine(entry);
  std::lock_guard lock(mu_);
  if (fd_ < 0) {
    fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) return Unavailable(path_, errno);
  }
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + done, line.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Unavailable(path_, errno);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd_) != 0) return Unavailable(path_, errno);
  return OkStatus();
}

}  // namespace modelmux::govern
