#pragma once
// Per-request facts that every stage may read; each field has one owner stage that sets it.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace modelmux {

enum class Dialect { kOpenAi, kAnthropic };

struct RequestContext {
  using Clock = std::chrono::steady_clock;

  std::string request_id;  // set by the server (accepted from x-request-id or generated)
  std::string tenant;      // set by govern: the virtual key's id, or the cache namespace
  // Set by govern: the virtual key's domain context (routing/text_stage.hpp adds it to chat
  // requests); null when the key has none. Shared, so that copies of the context stay cheap.
  std::shared_ptr<const std::string> key_context;
  // Set by govern: the virtual key's tags (conditional pipeline routes match them; a
  // "tier:<name>" tag binds the key's tier, routing/pipeline.hpp); null when the key has none.
  std::shared_ptr<const std::vector<std::string>> key_tags;
  Dialect caller_dialect = Dialect::kOpenAi;  // set by the ingress handler
  Clock::time_point start{};                  // set by the server when the request head arrived
  Clock::time_point deadline = Clock::time_point::max();  // set by the ingress handler

  [[nodiscard]] bool Expired(Clock::time_point now) const { return now >= deadline; }
  [[nodiscard]] std::chrono::milliseconds Remaining(Clock::time_point now) const {
    if (deadline == Clock::time_point::max()) return std::chrono::milliseconds::max();
    return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
  }
};

}  // namespace modelmux
