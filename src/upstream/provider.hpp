#pragma once
// A Provider is one configured upstream: its wire dialect, its signer, its endpoint and its
// timeouts. It turns a wire body into a signed HTTP call on the calling event loop's connection
// pool. Immutable after construction and shared by all loops.

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <string>

#include "auth/signer.hpp"
#include "core/request_context.hpp"
#include "core/result.hpp"
#include "dialects/dialect.hpp"
#include "net/http_client.hpp"

namespace modelmux::upstream {

enum class WireDialect {
  kOpenAi,
  kAnthropic,
  kGemini,
  kQianfan,
  kBedrock,
  kHunyuan,
  kOllama,
  kDashScope
};

struct ProviderSpec {
  std::string name;           // as in config, e.g. "openai", "sim"
  std::string type;           // provider family, e.g. "openai", "deepseek", "sim"
  std::string base_url;       // e.g. "https://api.openai.com/v1"
  std::string api_key;        // secret; never logged
  std::string secret_key;     // secret; never logged (Qianfan SECRET_KEY, AWS secret access key)
  std::string session_token;  // secret; AWS session token
  std::string region;         // AWS region (bedrock), Tencent region (hunyuan)
  std::string api_version;    // Azure's api-version; passed to the dialect in CallOptions
  net::Headers headers;       // extra headers for every call
  net::ClientOptions timeouts;
  net::TlsOptions tls;
};

struct UpstreamCall {
  std::string path;  // appended to base_url, e.g. "/chat/completions"
  std::string method = "POST";
  std::string body;
  net::Headers headers;  // e.g. forwarded x-sim-* controls, idempotency key
};

class Provider {
 public:
  // Errors: a provider type whose dialect this build does not speak.
  [[nodiscard]] static Result<std::unique_ptr<Provider>> Create(ProviderSpec spec);
  explicit Provider(ProviderSpec spec);  // OpenAI-compatible; prefer Create()
  Provider(const Provider&) = delete;
  Provider& operator=(const Provider&) = delete;

  [[nodiscard]] const ProviderSpec& spec() const { return spec_; }
  [[nodiscard]] WireDialect dialect() const { return dialect_; }
  // The wire dialect's pure functions (encode, decode, stream decoder, errors).
  [[nodiscard]] const dialects::UpstreamDialect& wire() const { return *wire_; }
  [[nodiscard]] const auth::Signer& signer() const { return *signer_; }
  // True for the simulator and for upstreams on loopback: they may receive x-sim-* controls.
  [[nodiscard]] bool accepts_sim_controls() const { return accepts_sim_controls_; }
  // The path of an OpenAI-dialect endpoint ("/chat/completions", "/embeddings") for this
  // provider: the endpoint itself for most, under the deployment with ?api-version= for Azure.
  [[nodiscard]] std::string OpenAiPath(std::string_view endpoint,
                                       std::string_view upstream_model) const;

  // Sends the call; returns when the response head arrived (any status). The body is read by
  // the caller. Must be awaited on an event loop thread (uses that loop's pool). The call's
  // total timeout is capped by the context's deadline.
  boost::asio::awaitable<Result<std::unique_ptr<net::ClientResponse>>> Send(
      UpstreamCall call, const RequestContext& ctx) const;

 private:
  ProviderSpec spec_;
  WireDialect dialect_ = WireDialect::kOpenAi;
  const dialects::UpstreamDialect* wire_ = nullptr;
  std::unique_ptr<auth::Signer> signer_;
  bool accepts_sim_controls_ = false;
};

// The HttpClient of the calling thread for these TLS options (one pool per loop and TLS setup).
[[nodiscard]] net::HttpClient& ClientForThisThread(const boost::asio::any_io_executor& ex,
                                                   const net::TlsOptions& tls);

}  // namespace modelmux::upstream
