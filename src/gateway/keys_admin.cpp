#include "gateway/keys_admin.hpp"

#include <boost/json.hpp>

#include "gateway/admission.hpp"
#include "govern/key_limits.hpp"
#include "govern/scope.hpp"

namespace modelmux::gateway {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;

namespace {

govern::Timestamp Now() {
  return std::chrono::time_point_cast<std::chrono::seconds>(std::chrono::system_clock::now());
}

Result<json::object> ParseObject(const std::string& body) {
  boost::system::error_code ec;
  json::value v = json::parse(body.empty() ? std::string_view("{}") : std::string_view(body), ec);
  if (ec || !v.is_object()) {
    return InvalidRequest("the body must be a JSON object of key attributes", "", "invalid_json");
  }
  return std::move(v.get_object());
}

// The attribute names a call touched (for the audit line; values may name internal models or
// addresses but never a secret, so names are enough).
std::string FieldNames(const json::object& o) {
  json::array a;
  for (const auto& [name, value] : o) a.emplace_back(name);
  return json::serialize(json::object{{"fields", std::move(a)}});
}

Error KeyNotFound(std::string_view id) {
  return NotFound("no key with id '" + std::string(id) + "'", "key_not_found");
}

}  // namespace

awaitable<Result<AdminAnswer>> ServeKeysAdmin(std::shared_ptr<Gatekeeper> gk, AdminCall call) {
  govern::AuditEntry audit;
  audit.who = call.who;
  audit.request_id = call.request_id;
  audit.peer = call.peer;
  std::string_view rest = call.path;
  rest.remove_prefix(std::string_view("/admin/keys").size());
  const std::string id = rest.starts_with("/") ? std::string(rest.substr(1)) : std::string();
  if (!rest.empty() && (id.empty() || id.find('/') != std::string::npos)) {
    co_return NotFound("no route for " + call.path, "unknown_url");
  }

  if (id.empty() && call.method == "POST") {
    auto attrs = ParseObject(call.body);
    if (!attrs.ok()) co_return attrs.error();
    const auto now = Now();
    govern::KeyRecord fresh;
    fresh.created = fresh.updated = now;
    auto key = govern::ApplyAttributes(*attrs, std::move(fresh), true, now);
    if (!key.ok()) co_return key.error();
    const auto random = govern::SystemRandom();
    auto secret = govern::GenerateKeySecret(random);
    if (!secret.ok()) co_return secret.error();
    auto new_id = govern::GenerateKeyId(random);
    if (!new_id.ok()) co_return new_id.error();
    key->id = *new_id;
    key->digest_hex = govern::KeyDigestHex(*secret);
    key->prefix = govern::KeyDisplayPrefix(*secret);
    audit.action = "key.create";
    audit.target = key->id;
    audit.detail_json = FieldNames(*attrs);
    audit.time = std::chrono::system_clock::now();
    auto audited = gk->Audit(audit);  // a named awaitable (GCC 12 and temporaries)
    if (auto st = co_await std::move(audited); !st.ok()) co_return st.error();
    if (auto st = co_await gk->keys().Put(*key); !st.ok()) co_return st.error();
    json::object out;
    out["key"] = *secret;
    for (auto& [name, value] : govern::ToPublicJson(*key)) out[name] = value;
    co_return AdminAnswer{201, json::serialize(out)};
  }
  if (id.empty() && call.method == "GET") {
    auto keys = co_await gk->keys().List();
    if (!keys.ok()) co_return keys.error();
    json::array data;
    for (const auto& k : *keys) data.emplace_back(govern::ToPublicJson(k));
    co_return AdminAnswer{
        200, json::serialize(json::object{{"object", "list"}, {"data", std::move(data)}})};
  }
  if (id.empty())
    co_return NotFound("no route for " + call.method + " " + call.path, "unknown_url");

  auto found = co_await gk->keys().FindById(id);
  if (!found.ok()) co_return found.error();
  if (!*found) co_return KeyNotFound(id);
  govern::KeyRecord key = std::move(**found);

  if (call.method == "GET") {
    json::object out = govern::ToPublicJson(key);
    if (key.budgets.any() && gk->limiter()) {
      auto states = co_await gk->limiter()->Budgets(key.id, govern::ToKeyLimits(key));
      json::array a;
      for (const auto& s : states) {
        a.emplace_back(json::object{{"period", govern::BudgetPeriodName(s.period)},
                                    {"limit", govern::FormatMicros(s.limit.micros)},
                                    {"spent", govern::FormatMicros(s.spent.micros)},
                                    {"reserved", govern::FormatMicros(s.reserved.micros)},
                                    {"remaining", govern::FormatMicros(s.remaining.micros)}});
      }
      out["budget_state"] = std::move(a);
    }
    co_return AdminAnswer{200, json::serialize(out)};
  }
  if (call.method == "PATCH") {
    auto attrs = ParseObject(call.body);
    if (!attrs.ok()) co_return attrs.error();
    auto changed = govern::ApplyAttributes(*attrs, key, false, Now());
    if (!changed.ok()) co_return changed.error();
    if (changed->models.empty()) {
      co_return InvalidRequest("a key needs at least one model", "models", "invalid_key_attribute");
    }
    changed->updated = Now();
    audit.action = "key.update";
    audit.target = key.id;
    audit.detail_json = FieldNames(*attrs);
    audit.time = std::chrono::system_clock::now();
    auto audited = gk->Audit(audit);  // a named awaitable (GCC 12 and temporaries)
    if (auto st = co_await std::move(audited); !st.ok()) co_return st.error();
    if (auto st = co_await gk->keys().Put(*changed); !st.ok()) co_return st.error();
    co_return AdminAnswer{200, json::serialize(govern::ToPublicJson(*changed))};
  }
  if (call.method == "DELETE") {
    audit.action = "key.revoke";
    audit.target = key.id;
    audit.time = std::chrono::system_clock::now();
    auto audited = gk->Audit(audit);  // a named awaitable (GCC 12 and temporaries)
    if (auto st = co_await std::move(audited); !st.ok()) co_return st.error();
    key.revoked = true;
    key.updated = Now();
    if (auto st = co_await gk->keys().Put(key); !st.ok()) co_return st.error();
    co_return AdminAnswer{200, json::serialize(govern::ToPublicJson(key))};
  }
  Error e = InvalidRequest("method " + call.method + " is not allowed on " + call.path, "",
                           "method_not_allowed");
  co_return e;
}

}  // namespace modelmux::gateway
