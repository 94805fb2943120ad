#pragma once
// Admission: who is calling and what they may do, decided before a request reaches routing.
//
// With a master key set (auth.master_key, MODELMUX_MASTER_KEY[_FILE]) every /v1 call needs a key,
// read from `Authorization: Bearer <key>`, `x-api-key` or `api-key` (never from the query: URLs
// end up in proxy logs). The master key itself is accepted on /v1 too and has every scope and no
// limits. A virtual key is looked up by the SHA-256 digest of what was presented (KeyStore), and
// the master key is compared by digest with CRYPTO_memcmp, so no comparison depends on how much
// of a secret matched.
//
// Refusals (OpenAI error bodies; the presented key is never echoed):
//   401 missing_api_key | invalid_api_key | revoked_api_key | expired_api_key
//   403 ip_not_allowed | model_not_allowed | task_not_allowed (a key's max_tokens cap clamps)
//   429 (rate limits, with retry-after) and 403 budget_exceeded from the Limiter, when the key
//   has any
//   503 key_store_unavailable (Redis down and the key not seen recently)
// IP allowlists: auth.ip_allowlist for every caller (except /healthz and /readyz), and the key's
// own, checked against the client address (the socket peer; X-Forwarded-For only from
// auth.trusted_proxies, see govern/ip_allow.hpp).
//
// Threading: one Gatekeeper per process, shared by every event loop; thread-safe.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/thread_pool.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "govern/audit.hpp"
#include "govern/budget_alert.hpp"
#include "govern/key.hpp"
#include "govern/key_store.hpp"
#include "govern/limiter.hpp"
#include "net/server.hpp"
#include "routing/config.hpp"
#include "routing/router.hpp"

namespace modelmux::gateway {

struct Caller {
  enum class Kind { kAnonymous, kMaster, kKey } kind = Kind::kAnonymous;
  std::optional<govern::KeyRecord> key;   // kKey
  boost::asio::ip::address address;       // the client address (after trusted proxies)
  [[nodiscard]] std::string Who() const;  // "master", the key id, or "anonymous"
};

// The facts of a request that scopes and limits need, read from its path and body.
struct RequestFacts {
  govern::Task task = govern::Task::kText;
  bool scoped = true;  // false: any valid key may call it (/v1/models)
  std::string model;   // as named in the body; may be empty
  std::optional<int64_t> max_tokens;
  size_t prompt_chars = 0;
  bool openai_chat = false;  // /v1/chat/completions or /v1/completions (max_tokens injectable)
  bool model_call = true;    // reaches a model (counted by rate limits and budgets)
};
// Pure: reads the body only as far as needed. A body that does not parse yields default facts
// (the handler refuses it with its own 400 later).
[[nodiscard]] RequestFacts ScanFacts(std::string_view path, std::string_view body);

// The secret a caller presented, or "" (Authorization: Bearer, then x-api-key, then api-key).
[[nodiscard]] std::string_view PresentedKey(const net::Headers& headers);
// Constant-time check of a presented secret against the master key (digests + CRYPTO_memcmp).
[[nodiscard]] bool IsMasterKey(std::string_view presented, std::string_view master_key);
// Writes "max_tokens": n into a JSON object body that names neither max_tokens nor
// max_completion_tokens.
void InjectMaxTokens(std::string& body, int64_t max_tokens);

class Gatekeeper {
 public:
  // Opens the key store (Redis when config.redis.url is set, else <data_dir>/keys.db), the audit
  // log (<data_dir>/audit.log) and the Limiter (sharing the Redis client). Start-up only.
  [[nodiscard]] static Result<std::shared_ptr<Gatekeeper>> Create(
      const routing::Config& config, boost::asio::any_io_executor executor);
  ~Gatekeeper();

  // Authenticates a /v1 call: anonymous when no master key is set, else the master or a valid,
  // unrevoked, unexpired key allowed from the client's address. 401/403/503 as above.
  boost::asio::awaitable<Result<Caller>> Authenticate(const net::ServerRequest& req,
                                                      const routing::AuthConfig& auth);
  // 403 ip_not_allowed when auth.ip_allowlist is set and the client is outside it.
  [[nodiscard]] Status CheckGlobalIp(const net::ServerRequest& req,
                                     const routing::AuthConfig& auth);
  // True when `req` carries the master key (for /admin/* and /metrics).
  [[nodiscard]] static bool HasMasterKey(const net::ServerRequest& req,
                                         const routing::AuthConfig& auth);

  // Scopes, then the Limiter (rate windows, budget reservation at the plan's price). Returns the
  // reservation to settle, or nullopt when the caller has no limits.
  boost::asio::awaitable<Result<std::optional<govern::Admission>>> Admit(
      const Caller& caller, const RequestFacts& facts,
      std::shared_ptr<const routing::Router> router);
  // Settles (status < 400) or releases a reservation at the end of the request, then raises the
  // budget alerts the settled spend reached (Admit does too for a budget refusal).
  boost::asio::awaitable<void> Finish(std::optional<govern::Admission> admission, bool served,
                                      int64_t tokens, std::optional<telemetry::Money> cost);

  // Appends to the audit log on a worker thread (it fsyncs).
  boost::asio::awaitable<Status> Audit(govern::AuditEntry entry);

  [[nodiscard]] govern::KeyStore& keys() { return *keys_; }
  [[nodiscard]] govern::AuditLog& audit() { return *audit_; }
  [[nodiscard]] const std::shared_ptr<govern::Limiter>& limiter() const { return limiter_; }
  // Budget alerts (limits.alert_thresholds); never null after Create.
  [[nodiscard]] const std::shared_ptr<govern::BudgetAlerter>& alerts() const { return alerts_; }
  [[nodiscard]] const std::string& data_dir() const { return data_dir_; }

 private:
  Gatekeeper() = default;
  // The parsed CIDR lists of `auth` (cached per configuration).
  struct Lists;
  std::shared_ptr<const Lists> ListsFor(const routing::AuthConfig& auth);
  boost::asio::ip::address ClientOf(const net::ServerRequest& req, const Lists& lists) const;

  std::shared_ptr<govern::KeyStore> keys_;
  std::unique_ptr<govern::AuditLog> audit_;
  std::unique_ptr<boost::asio::thread_pool> audit_pool_;
  std::shared_ptr<govern::Limiter> limiter_;
  std::shared_ptr<govern::BudgetAlerter> alerts_;
  std::string data_dir_;
  std::chrono::milliseconds window_{60'000};
  std::mutex lists_mu_;
  std::shared_ptr<const Lists> lists_;
};

}  // namespace modelmux::gateway
