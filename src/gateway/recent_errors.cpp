#include "gateway/recent_errors.hpp"

#include <algorithm>
#include <cmath>

#include "text/redact.hpp"

namespace modelmux::gateway {

std::string MaskAndShorten(std::string_view text, size_t max) {
  std::string masked = text::MaskSecrets(text);
  if (masked.size() <= max) return masked;
  size_t cut = max;
  // Step back over UTF-8 continuation bytes (10xxxxxx) so that no character is split.
  while (cut > 0 && (static_cast<unsigned char>(masked[cut]) & 0xC0) == 0x80) --cut;
  masked.resize(cut);
  masked += "\xE2\x80\xA6";  // …
  return masked;
}

RecentErrors::RecentErrors(size_t capacity) : ring_(std::max<size_t>(capacity, 1)) {}

void RecentErrors::Push(FailedRequest entry) {
  entry.message = MaskAndShorten(entry.message, kMaxMessageBytes);
  entry.model = MaskAndShorten(entry.model, kMaxFieldBytes);
  entry.code = MaskAndShorten(entry.code, kMaxFieldBytes);
  entry.provider = MaskAndShorten(entry.provider, kMaxFieldBytes);
  entry.path = MaskAndShorten(entry.path, kMaxFieldBytes);
  std::lock_guard lock(mu_);
  ring_[next_] = std::move(entry);
  next_ = (next_ + 1) % ring_.size();
  size_ = std::min(size_ + 1, ring_.size());
  ++total_;
}

bool RecentErrors::Record(const telemetry::RequestRecord& r) {
  if (r.status < 400 && r.error_code.empty()) return false;
  FailedRequest e;
  e.unix_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(r.start.time_since_epoch()).count();
  e.request_id = r.request_id;
  e.method = r.method;
  e.path = r.path;
  e.model = r.model;
  e.provider = r.provider;
  e.status = r.status;
  e.code = r.error_code;
  e.message = r.error_message;
  e.latency_s = r.latency.count();
  Push(std::move(e));
  return true;
}

std::vector<FailedRequest> RecentErrors::Latest(size_t limit) const {
  std::lock_guard lock(mu_);
  const size_t n = std::min(limit, size_);
  std::vector<FailedRequest> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(ring_[(next_ + ring_.size() - 1 - i) % ring_.size()]);
  }
  return out;
}

uint64_t RecentErrors::total() const {
  std::lock_guard lock(mu_);
  return total_;
}

std::string FailedRequestsJson(const std::vector<FailedRequest>& entries) {
  using telemetry::JsonEscape;
  std::string out = "[";
  for (const auto& e : entries) {
    if (out.size() > 1) out += ',';
    out += R"({"time_ms":)" + std::to_string(e.unix_ms);
    out += R"(,"request_id":")" + JsonEscape(e.request_id);
    out += R"(","method":")" + JsonEscape(e.method);
    out += R"(","path":")" + JsonEscape(e.path);
    out += R"(","model":")" + JsonEscape(e.model);
    out += R"(","provider":")" + JsonEscape(e.provider);
    out += R"(","status":)" + std::to_string(e.status);
    out += R"(,"code":")" + JsonEscape(e.code);
    out += R"(","message":")" + JsonEscape(e.message);
    out += R"(","latency_ms":)" + std::to_string(std::llround(e.latency_s * 1000)) + "}";
  }
  out += ']';
  return out;
}

}  // namespace modelmux::gateway
