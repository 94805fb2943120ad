#include "gateway/admission.hpp"

#include <openssl/crypto.h>

#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <filesystem>

#include "dialects/openai/fast_path.hpp"
#include "govern/budget_store.hpp"
#include "govern/key_limits.hpp"
#include "govern/scope.hpp"
#include "store/redis.hpp"
#include "telemetry/price_table.hpp"

namespace modelmux::gateway {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using govern::Task;

namespace {

Error Unauthenticated(std::string code, std::string message) {
  Error e;
  e.kind = ErrorKind::kAuthentication;
  e.code = std::move(code);
  e.message = std::move(message);
  return e;
}

Error IpRefused() {
  Error e;
  e.kind = ErrorKind::kPermission;
  e.code = "ip_not_allowed";
  e.message = "requests from this address are not allowed";
  return e;
}

std::optional<int64_t> IntMember(const json::object& o, std::string_view name) {
  const auto* v = o.if_contains(name);
  if (v && v->is_int64()) return v->get_int64();
  if (v && v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
  return std::nullopt;
}

// Anthropic content: a string or an array of blocks; images are {"type":"image"}.
void ScanAnthropic(const json::object& o, RequestFacts& f) {
  const auto* msgs = o.if_contains("messages");
  if (!msgs || !msgs->is_array()) return;
  for (const auto& m : msgs->get_array()) {
    const auto* content = m.is_object() ? m.get_object().if_contains("content") : nullptr;
    if (!content) continue;
    if (content->is_string()) {
      f.prompt_chars += content->get_string().size();
      continue;
    }
    if (!content->is_array()) continue;
    for (const auto& block : content->get_array()) {
      if (!block.is_object()) continue;
      const auto* type = block.get_object().if_contains("type");
      if (type && type->is_string() &&
          (type->get_string() == "image" || type->get_string() == "document")) {
        f.task = Task::kVision;
      }
      if (const auto* t = block.get_object().if_contains("text"); t && t->is_string()) {
        f.prompt_chars += t->get_string().size();
      }
    }
  }
}

}  // namespace

std::string Caller::Who() const {
  switch (kind) {
    case Kind::kMaster:
      return "master";
    case Kind::kKey:
      return key ? key->id : "key";
    case Kind::kAnonymous:
      break;
  }
  return "anonymous";
}

RequestFacts ScanFacts(std::string_view path, std::string_view body) {
  RequestFacts f;
  if (path == "/v1/models") {
    f.scoped = false;
    return f;
  }
  if (path.starts_with("/v1/batches") || path.starts_with("/v1/files")) {
    f.task = Task::kBatch;
    f.model_call = false;  // each line of a batch is admitted when it runs
    return f;
  }
  if (path.starts_with("/v1/usage")) {
    f.task = Task::kUsageRead;
    f.model_call = false;
    return f;
  }
  f.model_call = path != "/v1/messages/count_tokens";
  if (path == "/v1/chat/completions") {
    f.openai_chat = true;
    auto scanned = dialects::openai::ScanChatRequest(body);
    if (!scanned.ok()) return f;
    f.model = std::move(scanned->model);
    f.max_tokens = scanned->max_tokens;
    f.prompt_chars = scanned->prompt_chars;
    if (scanned->has_media) {
      f.task = body.find("\"video_url\"") != std::string_view::npos ? Task::kVideo : Task::kVision;
    }
    return f;
  }
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return f;
  const auto& o = v.get_object();
  if (const auto* m = o.if_contains("model"); m && m->is_string()) f.model = m->get_string();
  if (path == "/v1/embeddings") {
    f.task = Task::kEmbeddings;
    if (const auto* in = o.if_contains("input"); in && in->is_string()) {
      f.prompt_chars = in->get_string().size();
    } else if (in && in->is_array()) {
      for (const auto& e : in->get_array()) {
        if (e.is_string()) f.prompt_chars += e.get_string().size();
      }
    }
    return f;
  }
  if (path == "/v1/describe") {
    f.task = Task::kVision;
    return f;
  }
  if (path == "/v1/completions") {
    f.openai_chat = true;
    f.max_tokens = IntMember(o, "max_tokens");
    if (const auto* p = o.if_contains("prompt"); p && p->is_string()) {
      f.prompt_chars = p->get_string().size();
    }
    return f;
  }
  if (path == "/v1/messages" || path == "/v1/messages/count_tokens") {
    f.max_tokens = IntMember(o, "max_tokens");
    ScanAnthropic(o, f);
  }
  return f;
}

std::string_view PresentedKey(const net::Headers& headers) {
  if (std::string_view auth = headers.Get("authorization"); !auth.empty()) {
    if (auth.size() > 7 && (auth.starts_with("Bearer ") || auth.starts_with("bearer "))) {
      auth.remove_prefix(7);
      while (!auth.empty() && auth.front() == ' ') auth.remove_prefix(1);
      while (!auth.empty() && auth.back() == ' ') auth.remove_suffix(1);
      return auth;
    }
  }
  if (std::string_view k = headers.Get("x-api-key"); !k.empty()) return k;
  return headers.Get("api-key");
}

bool IsMasterKey(std::string_view presented, std::string_view master_key) {
  if (presented.empty() || master_key.empty()) return false;
  const std::string a = govern::KeyDigestHex(presented);
  const std::string b = govern::KeyDigestHex(master_key);
  return govern::DigestEquals(a, b);
}

void InjectMaxTokens(std::string& body, int64_t max_tokens) {
  const size_t brace = body.find('{');
  if (brace == std::string::npos) return;
  body.insert(brace + 1, "\"max_tokens\":" + std::to_string(max_tokens) + ",");
  // "{}" would become "{"max_tokens":N,}": drop the comma when nothing followed.
  size_t after = brace + 1 + 13 + std::to_string(max_tokens).size() + 1;
  size_t i = after;
  while (i < body.size() && std::isspace(static_cast<unsigned char>(body[i]))) ++i;
  if (i < body.size() && body[i] == '}') body.erase(after - 1, 1);
}

struct Gatekeeper::Lists {
  const void* source = nullptr;  // the AuthConfig these came from
  std::vector<std::string> allow_text, proxies_text;
  std::vector<govern::Cidr> allow, proxies;
};

Result<std::shared_ptr<Gatekeeper>> Gatekeeper::Create(const routing::Config& config,
                                                       asio::any_io_executor executor) {
  std::shared_ptr<Gatekeeper> g(new Gatekeeper());
  g->data_dir_ = config.server.data_dir;
  std::error_code fs_ec;
  std::filesystem::create_directories(config.server.data_dir, fs_ec);
  std::shared_ptr<store::RedisClient> redis;
  if (!config.redis.url.empty()) {
    auto options = store::ParseRedisUrl(config.redis.url);
    if (!options.ok()) {
      Error e = std::move(options).error();
      e.param = "redis.url";
      return e;
    }
    redis = store::RedisClient::Create(executor, std::move(options).value());
  }
  govern::KeyStoreOptions ko;
  ko.redis = redis;
  ko.sqlite_path = (std::filesystem::path(config.server.data_dir) / "keys.db").string();
  ko.cache_ttl = config.auth.keys_cache;
  MM_TRY(g->keys_, govern::KeyStore::Open(std::move(ko)));
  g->audit_pool_ = std::make_unique<asio::thread_pool>(1);
  g->audit_ = std::make_unique<govern::AuditLog>(
      (std::filesystem::path(config.server.data_dir) / "audit.log").string());
  // GOVERNANCE-LIMITER: per-key rate windows and budgets (h-limits' Limiter).
  govern::LimiterOptions lo;
  lo.currency_rates = govern::CurrencyRatesFrom(config.limits.currency_rates);
  lo.allow_unpriced = config.limits.allow_unpriced;
  if (config.telemetry.ledger) {  // budgets start from the ledger's spend (restarts, new periods)
    const std::string ledger_path =
        !config.telemetry.ledger_path.empty()
            ? config.telemetry.ledger_path
            : (std::filesystem::path(config.server.data_dir) / "ledger.db").string();
    lo.durable_spend = govern::LedgerSpend(ledger_path, lo.currency_rates);
  }
  g->limiter_ = govern::Limiter::Create(redis, std::move(lo));
  g->window_ = config.limits.key_window;
  // Budget alerts at thresholds (govern/budget_alert.hpp).
  govern::BudgetAlertOptions ao;
  ao.thresholds = config.limits.alert_thresholds;
  ao.webhook = config.limits.alert_webhook;
  ao.webhook_timeout = config.limits.alert_webhook_timeout;
  g->alerts_ = std::make_shared<govern::BudgetAlerter>(redis, std::move(ao));
  auto lists = g->ListsFor(config.auth);
  (void)lists;
  return g;
}

Gatekeeper::~Gatekeeper() {
  if (audit_pool_) audit_pool_->join();
}

awaitable<Status> Gatekeeper::Audit(govern::AuditEntry entry) {
  govern::AuditLog* log = audit_.get();
  auto initiation = [this, log, entry = std::move(entry)](auto handler) mutable {
    auto work = asio::make_work_guard(asio::get_associated_executor(handler));
    asio::post(*audit_pool_, [log, entry = std::move(entry), handler = std::move(handler),
                              work = std::move(work)]() mutable {
      auto result = std::make_shared<Status>(log->Append(entry));
      auto ex = work.get_executor();
      asio::post(ex, [handler = std::move(handler), result, work = std::move(work)]() mutable {
        std::move(handler)(std::move(*result));
      });
    });
  };
  return asio::async_initiate<const asio::use_awaitable_t<>&, void(Status)>(std::move(initiation),
                                                                            asio::use_awaitable);
}

std::shared_ptr<const Gatekeeper::Lists> Gatekeeper::ListsFor(const routing::AuthConfig& auth) {
  std::lock_guard lock(lists_mu_);
  if (lists_ && lists_->allow_text == auth.ip_allowlist &&
      lists_->proxies_text == auth.trusted_proxies) {
    return lists_;
  }
  auto l = std::make_shared<Lists>();
  l->allow_text = auth.ip_allowlist;
  l->proxies_text = auth.trusted_proxies;
  // The config loader has checked every entry; one that still fails is skipped (an allowlist
  // with no valid entry then admits nobody: the lists are non-empty).
  for (const auto& t : auth.ip_allowlist) {
    if (auto c = govern::ParseCidr(t); c.ok()) l->allow.push_back(*c);
  }
  for (const auto& t : auth.trusted_proxies) {
    if (auto c = govern::ParseCidr(t); c.ok()) l->proxies.push_back(*c);
  }
  if (!auth.ip_allowlist.empty() && l->allow.empty()) {
    l->allow.push_back(govern::Cidr{asio::ip::make_address("255.255.255.255"), 32});
  }
  lists_ = l;
  return l;
}

asio::ip::address Gatekeeper::ClientOf(const net::ServerRequest& req, const Lists& lists) const {
  std::string xff;
  for (const auto& [name, value] : req.headers) {
    if (name.size() == 15 && strncasecmp(name.c_str(), "x-forwarded-for", 15) == 0) {
      if (!xff.empty()) xff += ',';
      xff += value;
    }
  }
  return govern::ClientAddress(req.peer, xff, lists.proxies);
}

Status Gatekeeper::CheckGlobalIp(const net::ServerRequest& req, const routing::AuthConfig& auth) {
  if (auth.ip_allowlist.empty()) return OkStatus();
  auto lists = ListsFor(auth);
  if (!govern::Allowed(lists->allow, ClientOf(req, *lists))) return IpRefused();
  return OkStatus();
}

bool Gatekeeper::HasMasterKey(const net::ServerRequest& req, const routing::AuthConfig& auth) {
  return IsMasterKey(PresentedKey(req.headers), auth.master_key);
}

awaitable<Result<Caller>> Gatekeeper::Authenticate(const net::ServerRequest& req,
                                                   const routing::AuthConfig& auth) {
  Caller caller;
  auto lists = ListsFor(auth);
  caller.address = ClientOf(req, *lists);
  if (!govern::Allowed(lists->allow, caller.address)) co_return IpRefused();
  if (auth.master_key.empty()) co_return caller;
  const std::string_view presented = PresentedKey(req.headers);
  if (presented.empty()) {
    co_return Unauthenticated("missing_api_key",
                              "an API key is required (Authorization: Bearer, x-api-key or "
                              "api-key)");
  }
  if (IsMasterKey(presented, auth.master_key)) {
    caller.kind = Caller::Kind::kMaster;
    co_return caller;
  }
  const bool shaped = govern::LooksLikeKey(presented);
  std::string digest = govern::KeyDigestHex(presented);
  std::optional<govern::KeyRecord> key;
  if (shaped) {
    auto found = co_await keys_->FindByDigest(std::move(digest));
    if (!found.ok()) co_return found.error();
    key = std::move(found).value();
  }
  if (!key) co_return Unauthenticated("invalid_api_key", "the API key is not valid");
  if (key->revoked) co_return Unauthenticated("revoked_api_key", "the API key has been revoked");
  const auto now =
      std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
  if (key->Expired(now)) co_return Unauthenticated("expired_api_key", "the API key has expired");
  if (!govern::Allowed(key->ip_allowlist, caller.address)) co_return IpRefused();
  caller.kind = Caller::Kind::kKey;
  caller.key = std::move(key);
  co_return caller;
}

awaitable<Result<std::optional<govern::Admission>>> Gatekeeper::Admit(
    const Caller& caller, const RequestFacts& facts,
    std::shared_ptr<const routing::Router> router) {
  using Out = std::optional<govern::Admission>;
  if (caller.kind != Caller::Kind::kKey || !facts.scoped) co_return Out();
  const govern::KeyRecord& key = *caller.key;
  std::string resolved;
  const auto price_table = telemetry::PriceTable::Active();  // holds `price` below
  const telemetry::ModelPrice* price = nullptr;
  bool planned = false;
  if (!facts.model.empty()) {
    if (auto plan = router->MakePlan(facts.model); plan.ok()) {
      planned = true;
      resolved = plan->resolved.provider + "/" + plan->resolved.model;
      price = price_table->Find(plan->provider->spec().name, plan->provider->spec().type,
                                plan->resolved.model);
    }
  }
  govern::ScopeRequest sr{facts.model, resolved, facts.task, facts.max_tokens};
  if (auto st = govern::CheckScope(key, sr); !st.ok()) co_return st.error();
  // No model call, or a model that does not resolve (the handler answers 404): nothing to count.
  if (!facts.model_call || !planned || !govern::HasLimits(key) || !limiter_) co_return Out();

  // Reserve the worst case: the prompt (a character is at least a token's worth here) plus every
  // token the answer may use.
  const int64_t completion = govern::EffectiveMaxTokens(key, facts.max_tokens).value_or(4096);
  const auto prompt = static_cast<int64_t>(facts.prompt_chars);
  std::optional<telemetry::Money> estimate;
  if (price) {
    Usage u;
    u.prompt_tokens = prompt;
    u.completion_tokens = completion;
    estimate = telemetry::Cost(*price, u);
  }
  const govern::KeyLimits limits = govern::ToKeyLimits(key, window_);
  auto admitted = co_await limiter_->Admit(key.id, limits, prompt + completion, estimate);
  if (!admitted.ok()) {
    if (alerts_ && alerts_->enabled() && admitted.error().code == "budget_exceeded") {
      // The budgets that could not hold this request have reached their limit for it.
      auto states = co_await limiter_->Budgets(key.id, limits);
      std::vector<bool> exhausted;
      for (const auto& s : states) {
        std::optional<telemetry::Money> need;
        if (estimate) need = limiter_->Convert(*estimate, s.limit.currency, /*round_up=*/true);
        exhausted.push_back(need && s.remaining.micros < need->micros);
      }
      co_await alerts_->Observe(key.id, key.name, std::move(states), std::move(exhausted));
    }
    co_return admitted.error();
  }
  admitted->key_name = key.name;
  co_return Out(std::move(admitted).value());
}

awaitable<void> Gatekeeper::Finish(std::optional<govern::Admission> admission, bool served,
                                   int64_t tokens, std::optional<telemetry::Money> cost) {
  if (!admission || !limiter_) co_return;
  if (served) {
    co_await limiter_->Settle(*admission, tokens, cost);
  } else {
    co_await limiter_->Release(*admission);
  }
  if (served && alerts_ && alerts_->enabled() && !admission->budgets.empty()) {
    govern::KeyLimits limits;
    limits.budgets = admission->budgets;
    auto states = co_await limiter_->Budgets(admission->key_id, std::move(limits));
    co_await alerts_->Observe(admission->key_id, admission->key_name, std::move(states));
  }
}

}  // namespace modelmux::gateway
