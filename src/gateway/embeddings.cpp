#include "gateway/embeddings.hpp"

#include "dialects/openai/embeddings.hpp"

namespace modelmux::gateway {

boost::asio::awaitable<EmbeddingsOutcome> ServeEmbeddings(
    std::shared_ptr<const routing::Router> router, std::string body, RequestContext ctx,
    net::Headers headers, routing::AttemptLog* log) {
  namespace oa = dialects::openai;
  EmbeddingsOutcome out;
  auto decoded = oa::DecodeEmbeddingRequest(body);
  if (!decoded.ok()) {
    out.error = std::move(decoded).error();
    co_return out;
  }
  EmbeddingRequest& request = *decoded;
  out.model = request.model;
  for (const auto& s : request.inputs) out.prompt_chars += s.size();
  auto plan = router->MakePlan(request.model);
  if (!plan.ok()) {
    out.error = std::move(plan).error();
    co_return out;
  }
  out.provider = plan->provider->spec().name;
  out.provider_type = plan->provider->spec().type;
  out.upstream_model = plan->resolved.model;

  const bool base64 = request.encoding_format == "base64";
  auto answer = co_await router->Embed(std::move(request), ctx, std::move(headers), log);
  if (log && !log->deployment.empty()) {
    const auto slash = log->deployment.find('/');
    out.provider = log->deployment.substr(0, slash);
    out.upstream_model = log->deployment.substr(slash + 1);
    if (const auto* p = router->FindProvider(out.provider)) out.provider_type = p->spec().type;
  }
  if (!answer.ok()) {
    out.error = std::move(answer).error();
    out.from_upstream = !out.error->provider.empty() || out.error->upstream_status != 0;
    co_return out;
  }
  // A provider that reports no counts (Gemini) leaves usage unknown, so cost is unknown too
  // rather than zero.
  if (answer->prompt_tokens > 0) {
    out.usage = Usage{};
    out.usage->prompt_tokens = answer->prompt_tokens;
  }
  out.body = oa::EncodeEmbeddingResponse(*answer, base64);
  co_return out;
}

}  // namespace modelmux::gateway
