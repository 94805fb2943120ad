// `modelmux keys create|list|show|update|revoke`: drives a running gateway's /admin/keys API
// (docs/SECURITY.md). The master key comes from the environment only (never a flag: flags show
// in `ps`), and the new key's secret is printed once, in the JSON the gateway returns.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>

#include "cli/commands.hpp"
#include "net/http_client.hpp"

namespace modelmux::cli {

namespace asio = boost::asio;
namespace json = boost::json;

namespace {

struct Reply {
  int status = 0;
  std::string body;
};

asio::awaitable<Result<Reply>> Call(net::HttpClient* client, net::ClientRequest request) {
  auto resp = co_await client->Send(std::move(request));
  if (!resp.ok()) co_return resp.error();
  auto body = co_await (*resp)->ReadAll(16 << 20);
  if (!body.ok()) co_return body.error();
  co_return Reply{(*resp)->status(), std::move(body).value()};
}

std::string MasterKey() {
  if (const char* v = std::getenv("MODELMUX_MASTER_KEY"); v && *v) return v;
  if (const char* f = std::getenv("MODELMUX_MASTER_KEY_FILE"); f && *f) {
    std::ifstream in(f);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string k = ss.str();
    while (!k.empty() && (k.back() == '\n' || k.back() == '\r' || k.back() == ' ')) k.pop_back();
    return k;
  }
  return {};
}

json::value Amount(const std::string& text) {
  return json::value(text);  // the gateway parses decimal text exactly
}

// --context TEXT, or @FILE for a file's contents; "" clears the key's context (null).
Result<std::optional<std::string>> ContextArg(const KeysArgs& a) {
  if (!a.context) return std::optional<std::string>();
  std::string text = *a.context;
  if (!text.empty() && text.front() == '@') {
    std::ifstream in(text.substr(1), std::ios::binary);
    if (!in) return InvalidRequest("cannot read " + text.substr(1), "context");
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  return std::optional<std::string>(std::move(text));
}

json::object Attributes(const KeysArgs& a, const std::optional<std::string>& context) {
  json::object o;
  auto strings = [](const std::vector<std::string>& v) {
    json::array arr;
    for (const auto& s : v) arr.emplace_back(s);
    return arr;
  };
  if (a.name) o["name"] = *a.name;
  if (!a.models.empty()) o["models"] = strings(a.models);
  if (!a.tasks.empty()) o["tasks"] = strings(a.tasks);
  if (!a.ip_allowlist.empty()) o["ip_allowlist"] = strings(a.ip_allowlist);
  if (!a.tags.empty()) o["tags"] = strings(a.tags);
  if (a.max_tokens) o["max_tokens"] = *a.max_tokens;
  if (a.default_max_tokens) o["default_max_tokens"] = *a.default_max_tokens;
  if (context) o["context"] = context->empty() ? json::value(nullptr) : json::value(*context);
  if (a.rpm) o["rpm"] = *a.rpm;
  if (a.tpm) o["tpm"] = *a.tpm;
  if (a.expires_in) o["expires_in"] = *a.expires_in;
  json::object b;
  if (a.budget_daily) b["daily"] = Amount(*a.budget_daily);
  if (a.budget_monthly) b["monthly"] = Amount(*a.budget_monthly);
  if (a.budget_total) b["total"] = Amount(*a.budget_total);
  if (a.currency) b["currency"] = *a.currency;
  if (!b.empty()) o["budgets"] = std::move(b);
  return o;
}

}  // namespace

void AddKeysFlags(CLI::App& cmd, KeysArgs& a) {
  cmd.add_option("action", a.action, "create | list | show | update | revoke")
      ->required()
      ->check(CLI::IsMember({"create", "list", "show", "update", "revoke"}));
  cmd.add_option("id", a.id, "The key's id (show, update, revoke)");
  cmd.add_option("--url", a.url, "The gateway (default http://127.0.0.1:8080; env MODELMUX_URL)");
  cmd.add_option("--name", a.name, "A name for people");
  cmd.add_option("--model", a.models, "Allowed model glob (repeat; required by create)");
  cmd.add_option("--task", a.tasks,
                 "Allowed task: text vision video embeddings batch usage-read (repeat; "
                 "default text)");
  cmd.add_option("--max-tokens", a.max_tokens,
                 "Cap on a request's max_tokens (a request above it is clamped)");
  cmd.add_option("--default-max-tokens", a.default_max_tokens,
                 "max_tokens for a request that sets none (at most the cap)");
  cmd.add_option("--context", a.context,
                 "Domain context added to every chat request: TEXT or @FILE (\"\" clears it)");
  cmd.add_option("--rpm", a.rpm, "Requests per minute (0: no limit)");
  cmd.add_option("--tpm", a.tpm, "Tokens per minute (0: no limit)");
  cmd.add_option("--budget-daily", a.budget_daily, "Spending cap per UTC day, e.g. 0.50");
  cmd.add_option("--budget-monthly", a.budget_monthly, "Spending cap per UTC month");
  cmd.add_option("--budget-total", a.budget_total, "Spending cap over the key's life");
  cmd.add_option("--currency", a.currency, "Budget currency: USD (default) or CNY");
  cmd.add_option("--expires-in", a.expires_in, "Seconds until the key expires");
  cmd.add_option("--ip", a.ip_allowlist, "Allowed client address or CIDR block (repeat)");
  cmd.add_option("--tag", a.tags, "A tag (repeat)");
}

int RunKeys(const KeysArgs& a) {
  std::string base = a.url;
  if (base.empty()) {
    const char* env = std::getenv("MODELMUX_URL");
    base = env && *env ? env : "http://127.0.0.1:8080";
  }
  while (!base.empty() && base.back() == '/') base.pop_back();
  const std::string master = MasterKey();
  if (master.empty()) {
    return Fail(
        InvalidRequest("set MODELMUX_MASTER_KEY (or MODELMUX_MASTER_KEY_FILE) to the "
                       "gateway's master key",
                       "", "missing_master_key"));
  }
  const bool needs_id = a.action == "show" || a.action == "update" || a.action == "revoke";
  if (needs_id && a.id.empty()) {
    return Fail(InvalidRequest("'keys " + a.action + "' needs the key's id", "id"));
  }
  net::ClientRequest req;
  req.url = base + "/admin/keys" + (needs_id ? "/" + a.id : "");
  req.headers.Add("authorization", "Bearer " + master);
  if (a.action == "create" || a.action == "update") {
    req.method = a.action == "create" ? "POST" : "PATCH";
    req.headers.Add("content-type", "application/json");
    auto context = ContextArg(a);
    if (!context.ok()) return Fail(context.error());
    req.body = json::serialize(Attributes(a, *context));
  } else if (a.action == "revoke") {
    req.method = "DELETE";
  } else {
    req.method = "GET";
  }

  net::EventLoops loops(1);
  net::HttpClient client(loops.loop(0).get_executor());
  loops.Start();
  auto reply = asio::co_spawn(loops.loop(0), Call(&client, std::move(req)), asio::use_future).get();
  loops.Stop();
  loops.Join();
  if (!reply.ok()) return Fail(reply.error());
  if (reply->status >= 400) {
    std::fprintf(stderr, "modelmux: the gateway answered %d: %s\n", reply->status,
                 reply->body.c_str());
    return 1;
  }
  std::printf("%s\n", reply->body.c_str());
  return 0;
}

}  // namespace modelmux::cli
