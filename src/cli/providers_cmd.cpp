// `modelmux providers` (what is configured and where each credential comes from) and
// `modelmux doctor` (one cheap call per provider, failures explained in plain words).

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <future>

#include "cli/commands.hpp"
#include "upstream/diagnose.hpp"
#include "upstream/provider.hpp"

namespace modelmux::cli {
namespace {

namespace asio = boost::asio;
namespace json = boost::json;

std::string CredentialText(const routing::ProviderConfig& p) {
  if (p.api_key_source.empty()) return "none";
  auto name = [](const std::string& source) {
    if (source == "config" || source.starts_with("file:")) return source;
    return "$" + source;
  };
  std::string s = "key " + name(p.api_key_source);
  if (!p.secret_key_source.empty()) s += " + secret " + name(p.secret_key_source);
  if (!p.session_token.empty()) s += " + session token";
  return s;
}

std::string BaseUrlText(const routing::ProviderConfig& p) {
  return p.base_url.empty() ? "(in-process simulator)" : p.base_url;
}

upstream::CredentialInfo InfoFor(const routing::ProviderConfig& p) {
  upstream::CredentialInfo c;
  c.provider_type = std::string(routing::ProviderTypeName(p.type));
  c.api_key_source = p.api_key_source;
  c.secret_key_source = p.secret_key_source;
  c.base_url = BaseUrlText(p);
  c.region = p.region;
  return c;
}

// Whether this build speaks the provider's dialect (the router skips the ones it does not).
bool Spoken(const routing::ProviderConfig& p) {
  upstream::ProviderSpec spec;
  spec.name = p.name;
  spec.type = std::string(routing::ProviderTypeName(p.type));
  spec.base_url = p.base_url.empty() ? "http://127.0.0.1:1/v1" : p.base_url;
  return upstream::Provider::Create(std::move(spec)).ok();
}

void PrintRow(const std::string& a, const std::string& b, const std::string& c,
              const std::string& d, const std::string& e) {
  std::printf("%-12s %-10s %-44s %-52s %s\n", a.c_str(), b.c_str(), c.c_str(), d.c_str(),
              e.c_str());
}

}  // namespace

void AddProvidersFlags(CLI::App& cmd, ProvidersArgs& a) {
  cmd.add_option("--config", a.config.config_file, "YAML config file (env MODELMUX_CONFIG)");
  cmd.add_flag("--json", a.json, "Print a JSON array instead of a table");
}

int RunProviders(const ProvidersArgs& a) {
  auto cfg = LoadConfig(a.config, false);
  if (!cfg.ok()) return Fail(cfg.error());
  if (a.json) {
    json::array out;
    for (const auto& p : (*cfg)->providers) {
      json::object o;
      o["name"] = p.name;
      o["type"] = routing::ProviderTypeName(p.type);
      o["base_url"] = p.base_url;
      o["api_key_source"] = p.api_key_source;
      o["secret_key_source"] = p.secret_key_source;
      if (!p.region.empty()) o["region"] = p.region;
      if (!p.api_version.empty()) o["api_version"] = p.api_version;
      json::array models;
      for (const auto& m : p.models) models.emplace_back(m);
      o["models"] = std::move(models);
      o["supported"] = Spoken(p);
      out.emplace_back(std::move(o));
    }
    std::printf("%s\n", json::serialize(out).c_str());
    return 0;
  }
  std::printf("config: %s\n", (*cfg)->origin.c_str());
  PrintRow("NAME", "TYPE", "BASE URL", "CREDENTIALS", "MODELS");
  for (const auto& p : (*cfg)->providers) {
    std::string models;
    for (const auto& m : p.models) models += (models.empty() ? "" : ",") + m;
    if (models.empty()) models = "(by family)";
    if (!Spoken(p)) models += "  [not spoken by this build]";
    PrintRow(p.name, std::string(routing::ProviderTypeName(p.type)), BaseUrlText(p),
             CredentialText(p), models);
  }
  return 0;
}

void AddDoctorFlags(CLI::App& cmd, DoctorArgs& a) {
  cmd.add_option("--config", a.config.config_file, "YAML config file (env MODELMUX_CONFIG)");
  cmd.add_option("--provider,-p", a.providers, "Only these providers (repeatable)");
  cmd.add_option("--model,-m", a.model, "Probe with this model instead of a cheap default");
  cmd.add_option("--timeout", a.timeout_s, "Seconds per provider")->capture_default_str();
}

int RunDoctor(const DoctorArgs& a) {
  auto cfg = LoadConfig(a.config, false);
  if (!cfg.ok()) return Fail(cfg.error());
  net::EventLoops loops(1);
  auto rt = Runtime::Start(*cfg, loops);
  if (!rt.ok()) return Fail(rt.error());
  auto router = (*rt)->router();
  loops.Start();

  struct Probe {
    const routing::ProviderConfig* provider;
    std::string model;
    std::chrono::steady_clock::time_point start;
    std::future<Result<ChatResponse>> result;
  };
  std::vector<Probe> probes;
  int failures = 0;
  for (const auto& p : router->config().providers) {
    if (!a.providers.empty() &&
        std::find(a.providers.begin(), a.providers.end(), p.name) == a.providers.end()) {
      continue;
    }
    std::string model = a.model;
    if (model.empty() && !p.models.empty()) model = p.models.front();
    if (model.empty()) model = std::string(upstream::ProbeModel(routing::ProviderTypeName(p.type)));
    if (model.empty()) {
      std::printf("%-12s SKIP  no model to probe with; pass --model or list `models` for it\n",
                  p.name.c_str());
      continue;
    }
    ChatRequest req;
    req.model = p.name + "/" + model;
    Message user;
    user.content.push_back({PartType::kText, "ping"});
    req.messages.push_back(std::move(user));
    req.max_tokens = 1;
    RequestContext ctx;
    ctx.request_id = "doctor-" + p.name;
    ctx.start = std::chrono::steady_clock::now();
    ctx.deadline = ctx.start + std::chrono::seconds(a.timeout_s);
    probes.push_back(
        {&p, model, ctx.start,
         asio::co_spawn(loops.loop(0), router->Chat(std::move(req), ctx), asio::use_future)});
  }
  if (probes.empty() && !a.providers.empty()) {
    std::fprintf(stderr,
                 "modelmux: no configured provider is named that (see `modelmux "
                 "providers`)\n");
    failures = 1;
  }
  for (auto& probe : probes) {
    auto r = probe.result.get();
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - probe.start)
                        .count();
    const auto& p = *probe.provider;
    if (r.ok()) {
      std::printf("%-12s ok    %lld ms, %s answered (%s)\n", p.name.c_str(),
                  static_cast<long long>(ms), probe.model.c_str(), CredentialText(p).c_str());
      continue;
    }
    ++failures;
    const Error& e = r.error();
    auto d = upstream::Diagnose(e, InfoFor(p));
    std::printf("%-12s FAIL  %d %s: %s\n", p.name.c_str(), e.HttpStatus(),
                std::string(e.OpenAiType()).c_str(), d.summary.c_str());
    std::printf("             provider said: %s%s%s\n", e.message.c_str(),
                e.provider_code.empty() ? "" : " [code ",
                e.provider_code.empty() ? "" : (e.provider_code + "]").c_str());
    size_t pos = 0;
    while (pos < d.checks.size()) {
      size_t nl = d.checks.find('\n', pos);
      if (nl == std::string::npos) nl = d.checks.size();
      std::printf("             %s\n", d.checks.substr(pos, nl - pos).c_str());
      pos = nl + 1;
    }
  }
  loops.Stop();
  loops.Join();
  return failures == 0 ? 0 : 1;
}

}  // namespace modelmux::cli
