#include "routing/router.hpp"

#include "core/sse.hpp"
#include "dialects/openai/errors.hpp"
#include "dialects/openai/request.hpp"
#include "dialects/openai/response.hpp"
#include "dialects/openai/stream.hpp"

namespace modelmux::routing {
namespace {

upstream::ProviderSpec SpecFrom(const ProviderConfig& p) {
  upstream::ProviderSpec s;
  s.name = p.name;
  s.type = std::string(ProviderTypeName(p.type));
  s.base_url = p.base_url;
  s.api_key = p.api_key;
  for (const auto& [k, v] : p.headers) s.headers.Add(k, v);
  s.timeouts.connect_timeout = p.timeouts.connect;
  s.timeouts.first_byte_timeout = p.timeouts.first_byte;
  s.timeouts.idle_timeout = p.timeouts.idle;
  s.timeouts.total_timeout = p.timeouts.total;
  s.tls.verify_peer = p.tls.verify;
  s.tls.ca_file = p.tls.ca_file;
  s.tls.client_cert_file = p.tls.client_cert;
  s.tls.client_key_file = p.tls.client_key;
  return s;
}

bool SpeaksOpenAi(ProviderType t) {
  switch (t) {
    case ProviderType::kOpenAi:
    case ProviderType::kDeepseek:
    case ProviderType::kMoonshot:
    case ProviderType::kOllama:
    case ProviderType::kVllm:
    case ProviderType::kSim:
      return true;
    default:
      return false;
  }
}

}  // namespace

void ForwardSimControls(const net::Headers& from, const upstream::Provider& provider,
                        net::Headers& to) {
  if (!provider.accepts_sim_controls()) return;
  for (const auto& [k, v] : from) {
    if (k.size() > 6 && net::IEquals(std::string_view(k).substr(0, 6), "x-sim-")) to.Add(k, v);
  }
}

Result<std::shared_ptr<const Router>> Router::Create(std::shared_ptr<const Config> config) {
  auto router = std::shared_ptr<Router>(new Router(config));
  for (const auto& p : config->providers) {
    // Providers of other dialects arrive with the Providers work; until then they are listed
    // in the config but a plan naming them fails clearly (see MakePlan).
    if (!SpeaksOpenAi(p.type)) continue;
    if (p.base_url.empty()) {
      Error e = InvalidRequest("provider '" + p.name + "' has no base_url", "providers." + p.name);
      e.code = "config_error";
      return e;
    }
    router->providers_.emplace(p.name, std::make_unique<upstream::Provider>(SpecFrom(p)));
  }
  return std::shared_ptr<const Router>(std::move(router));
}

const upstream::Provider* Router::FindProvider(std::string_view name) const {
  auto it = providers_.find(name);
  return it == providers_.end() ? nullptr : it->second.get();
}

Result<Plan> Router::MakePlan(std::string_view model) const {
  MM_TRY(ResolvedModel resolved, ResolveModel(*config_, model));
  const auto* provider = FindProvider(resolved.provider);
  if (!provider) {
    Error e;
    e.kind = ErrorKind::kNotFound;
    e.param = "model";
    e.code = "provider_not_supported";
    e.message = "The model '" + std::string(model) + "' resolves to provider '" +
                resolved.provider + "', whose dialect this build cannot call yet";
    return e;
  }
  return Plan{std::move(resolved), provider};
}

boost::asio::awaitable<Result<ChatResponse>> Router::Chat(ChatRequest request, RequestContext ctx,
                                                          net::Headers forward) const {
  MM_CO_TRY(Plan plan, MakePlan(request.model));
  request.stream = false;
  upstream::UpstreamCall call;
  call.path = "/chat/completions";
  call.body = dialects::openai::EncodeChatRequest(request, plan.resolved.model, false);
  ForwardSimControls(forward, *plan.provider, call.headers);
  MM_CO_TRY(auto resp, co_await plan.provider->Send(std::move(call), ctx));
  MM_CO_TRY(std::string body, co_await resp->ReadAll());
  if (resp->status() != 200) {
    co_return dialects::openai::DecodeError(resp->status(), body, plan.provider->spec().name);
  }
  co_return dialects::openai::DecodeChatResponse(body);
}

boost::asio::awaitable<Result<std::optional<Usage>>> Router::ChatStream(
    ChatRequest request, RequestContext ctx, EventSink on_event, net::Headers forward) const {
  MM_CO_TRY(Plan plan, MakePlan(request.model));
  request.stream = true;
  upstream::UpstreamCall call;
  call.path = "/chat/completions";
  call.body = dialects::openai::EncodeChatRequest(request, plan.resolved.model, true);
  ForwardSimControls(forward, *plan.provider, call.headers);
  MM_CO_TRY(auto resp, co_await plan.provider->Send(std::move(call), ctx));
  if (resp->status() != 200) {
    MM_CO_TRY(std::string body, co_await resp->ReadAll(1 << 20));
    co_return dialects::openai::DecodeError(resp->status(), body, plan.provider->spec().name);
  }
  SseParser parser;
  dialects::openai::StreamDecoder decoder;
  std::vector<SseEvent> events;
  std::optional<Usage> usage;
  while (!decoder.done()) {
    MM_CO_TRY(std::string_view piece, co_await resp->ReadSome());
    if (piece.empty()) break;
    if (!parser.Feed(piece, events)) co_return Internal("upstream stream event too large");
    for (const auto& ev : events) {
      MM_CO_TRY(auto decoded, decoder.OnEvent(ev));
      if (!decoded) continue;
      if (decoded->usage) usage = decoded->usage;
      if (decoded->kind == StreamEvent::Kind::kError) {
        Error e;
        e.kind = ErrorKind::kUpstreamError;
        e.message = decoded->error_message;
        e.provider = plan.provider->spec().name;
        co_return e;
      }
      if (decoded->kind == StreamEvent::Kind::kUsage && !request.include_usage) continue;
      MM_CO_RETURN_IF_ERROR(on_event(*decoded));
    }
    events.clear();
  }
  if (!decoder.done()) {
    Error e;
    e.kind = ErrorKind::kUpstreamError;
    e.message = "the upstream stream ended before it was complete";
    e.code = "stream_cut";
    e.provider = plan.provider->spec().name;
    co_return e;
  }
  co_return usage;
}

}  // namespace modelmux::routing
