#include "upstream/provider.hpp"

#include <boost/asio/this_coro.hpp>
#include <map>

#include "auth/qianfan_token.hpp"
#include "auth/sigv4_signer.hpp"
#include "auth/tc3_signer.hpp"
#include "auth/zhipu_signer.hpp"
#include "dialects/anthropic/anthropic.hpp"
#include "dialects/bedrock/bedrock.hpp"
#include "dialects/dashscope/dashscope.hpp"
#include "dialects/gemini/gemini.hpp"
#include "dialects/hunyuan/hunyuan.hpp"
#include "dialects/openai/family.hpp"
#include "dialects/ollama/ollama.hpp"
#include "dialects/openai/openai.hpp"
#include "dialects/qianfan/qianfan.hpp"
#include "net/url.hpp"

namespace modelmux::upstream {
namespace {

bool IsLoopbackHost(std::string_view host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

}  // namespace

net::HttpClient& ClientForThisThread(const boost::asio::any_io_executor& ex,
                                     const net::TlsOptions& tls) {
  thread_local std::map<std::string, std::unique_ptr<net::HttpClient>> clients;
  std::string key = std::to_string(tls.verify_peer) + "|" + tls.ca_file + "|" +
                    tls.client_cert_file + "|" + tls.client_key_file;
  auto& slot = clients[key];
  if (!slot) slot = std::make_unique<net::HttpClient>(ex, tls);
  return *slot;
}

Result<std::unique_ptr<Provider>> Provider::Create(ProviderSpec spec) {
  if (const dialects::UpstreamDialect* family = dialects::OpenAiFamilyUpstream(spec.type)) {
    // The OpenAI-compatible family (dialects/openai/family.hpp): OpenAI wire, the provider's own
    // error codes; Azure signs with `api-key` and routes by deployment, Zhipu signs a JWT.
    if (spec.type == "azure") {
      // AZURE_OPENAI_ENDPOINT is https://{resource}.openai.azure.com; the dialect adds /openai/...
      // A base URL ending in /openai/v1 selects the newer v1 form (plain OpenAI paths).
      std::string& base = spec.base_url;
      while (!base.empty() && base.back() == '/') base.pop_back();
      if (base.ends_with("/openai/v1")) {
        family = &dialects::AzureV1Upstream();
      } else if (base.ends_with("/openai")) {
        base.resize(base.size() - std::string_view("/openai").size());
      }
    }
    auto p = std::make_unique<Provider>(std::move(spec));
    p->wire_ = family;
    if (p->spec_.type == "azure")
      p->signer_ = auth::MakeHeaderKeySigner("api-key", p->spec_.api_key);
    if (p->spec_.type == "zhipu") p->signer_ = auth::MakeZhipuSigner(p->spec_.api_key);
    return p;
  }
  if (spec.type == "hunyuan" || spec.type == "ollama") {
    // Both speak the OpenAI API under /v1 too: a base URL ending in /v1 selects that surface
    // (plain OpenAI provider, Bearer key); any other base URL the native API.
    std::string_view base = spec.base_url;
    while (!base.empty() && base.back() == '/') base.remove_suffix(1);
    if (base.ends_with("/v1")) return std::make_unique<Provider>(std::move(spec));
    const bool hunyuan = spec.type == "hunyuan";
    auto p = std::make_unique<Provider>(std::move(spec));
    p->dialect_ = hunyuan ? WireDialect::kHunyuan : WireDialect::kOllama;
    p->wire_ = hunyuan ? &dialects::HunyuanUpstream() : &dialects::OllamaUpstream();
    if (hunyuan) {
      auth::Tc3SignerOptions o;
      o.secret_id = p->spec_.api_key;
      o.secret_key = p->spec_.secret_key;
      o.token = p->spec_.session_token;
      o.region = p->spec_.region;
      p->signer_ = auth::MakeTc3Signer(std::move(o));
    }
    return p;
  }
  static constexpr std::string_view kOpenAiFamily[] = {"openai", "deepseek", "moonshot",
                                                       "ollama", "vllm",     "sim"};
  for (auto t : kOpenAiFamily) {
    if (spec.type == t) return std::make_unique<Provider>(std::move(spec));
  }
  if (spec.type == "anthropic") {
    auto p = std::make_unique<Provider>(std::move(spec));
    p->dialect_ = WireDialect::kAnthropic;
    p->wire_ = &dialects::AnthropicUpstream();
    p->signer_ = auth::MakeHeaderKeySigner("x-api-key", p->spec_.api_key);
    return p;
  }
  if (spec.type == "gemini") {
    // The dialect's paths are relative to the API version; a base URL without one (the default
    // https://generativelanguage.googleapis.com, as Google's SDKs take it) gets /v1beta.
    std::string& base = spec.base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    const std::string_view last = std::string_view(base).substr(base.rfind('/') + 1);
    const bool versioned = last.size() >= 2 && last[0] == 'v' && last[1] >= '0' && last[1] <= '9';
    if (!base.empty() && !versioned) base += "/v1beta";
    auto p = std::make_unique<Provider>(std::move(spec));
    p->dialect_ = WireDialect::kGemini;
    p->wire_ = &dialects::GeminiUpstream();
    p->signer_ = auth::MakeHeaderKeySigner("x-goog-api-key", p->spec_.api_key);
    return p;
  }
  if (spec.type == "qianfan") {
    std::string secret = spec.secret_key;
    auto p = std::make_unique<Provider>(std::move(spec));
    p->dialect_ = WireDialect::kQianfan;
    p->wire_ = &dialects::QianfanLegacyUpstream();
    p->signer_ =
        auth::MakeQianfanTokenSigner(p->spec_.base_url, p->spec_.api_key, std::move(secret),
                                     std::chrono::steady_clock::now, p->spec_.tls);
    return p;
  }
  if (spec.type == "dashscope") {
    // A base URL with "compatible-mode" is DashScope's OpenAI-compatible surface (plain OpenAI
    // provider, Bearer key); any other the native API, whose paths start at /api/v1 (a base URL
    // ending in /api/v1, as DashScope's SDKs take it, is accepted too).
    if (spec.base_url.find("compatible-mode") != std::string::npos) {
      return std::make_unique<Provider>(std::move(spec));
    }
    std::string& base = spec.base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    if (base.ends_with("/api/v1")) base.resize(base.size() - std::string_view("/api/v1").size());
    auto p = std::make_unique<Provider>(std::move(spec));
    p->dialect_ = WireDialect::kDashScope;
    p->wire_ = &dialects::DashScopeUpstream();
    return p;  // Bearer, as the constructor set it
  }
  if (spec.type == "bedrock") {
    auth::AwsCredentials creds{spec.api_key, spec.secret_key, spec.session_token};
    std::string region = spec.region;
    auto p = std::make_unique<Provider>(std::move(spec));
    p->dialect_ = WireDialect::kBedrock;
    p->wire_ = &dialects::BedrockUpstream();
    p->signer_ = auth::MakeSigV4Signer(std::move(creds), std::move(region), "bedrock");
    return p;
  }
  Error e;
  e.kind = ErrorKind::kNotFound;
  e.code = "provider_not_supported";
  e.message = "provider type '" + spec.type + "' is not supported by this build yet";
  return e;
}

Provider::Provider(ProviderSpec spec) : spec_(std::move(spec)) {
  wire_ = &dialects::OpenAiUpstream();
  signer_ = auth::MakeBearerSigner(spec_.api_key);
  auto url = net::ParseUrl(spec_.base_url);
  accepts_sim_controls_ = spec_.type == "sim" || (url.ok() && IsLoopbackHost(url->host));
}

std::string Provider::OpenAiPath(std::string_view endpoint,
                                 std::string_view upstream_model) const {
  if (wire_ == &dialects::AzureUpstream()) {
    return dialects::AzureDeploymentPath(endpoint, upstream_model, spec_.api_version);
  }
  return std::string(endpoint);
}

boost::asio::awaitable<Result<std::unique_ptr<net::ClientResponse>>> Provider::Send(
    UpstreamCall call, const RequestContext& ctx) const {
  net::ClientRequest req;
  req.method = std::move(call.method);
  req.url = net::JoinUrl(spec_.base_url, call.path);
  req.headers = std::move(call.headers);
  for (const auto& [k, v] : spec_.headers) req.headers.Set(k, v);
  if (!call.body.empty()) req.headers.Set("content-type", "application/json");
  req.body = std::move(call.body);
  if (signer_->is_async()) {
    MM_CO_RETURN_IF_ERROR(co_await signer_->SignAsync(req));
  } else {
    MM_CO_RETURN_IF_ERROR(signer_->Sign(req));
  }

  net::ClientOptions opt = spec_.timeouts;
  auto left = ctx.Remaining(std::chrono::steady_clock::now());
  if (left <= std::chrono::milliseconds(0)) {
    Error e;
    e.kind = ErrorKind::kTimeout;
    e.message = "the request's deadline passed before the upstream call";
    e.code = "deadline_exceeded";
    co_return e;
  }
  if (left < opt.total_timeout) opt.total_timeout = left;

  auto ex = co_await boost::asio::this_coro::executor;
  auto& client = ClientForThisThread(ex, spec_.tls);
  auto r = co_await client.Send(std::move(req), opt);
  if (!r.ok()) {
    Error e = std::move(r).error();
    e.provider = spec_.name;
    co_return e;
  }
  co_return std::move(r).value();
}

}  // namespace modelmux::upstream
