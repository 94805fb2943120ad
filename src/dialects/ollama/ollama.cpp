#include "dialects/ollama/ollama.hpp"

#include "dialects/ollama/capabilities.hpp"
#include "dialects/ollama/errors.hpp"
#include "dialects/ollama/request.hpp"
#include "dialects/ollama/response.hpp"
#include "dialects/ollama/stream.hpp"

namespace modelmux::dialects {
namespace {

using ollama::Capabilities;

std::string_view ModelOf(std::string_view caller_model, const CallOptions& options) {
  return options.upstream_model.empty() ? caller_model : std::string_view(options.upstream_model);
}

class Upstream final : public UpstreamDialect {
 public:
  std::string_view name() const override { return "ollama"; }

  Result<WireCall> EncodeChat(const ChatRequest& request,
                              const CallOptions& options) const override {
    const std::string_view model = ModelOf(request.model, options);
    if (model.empty()) return InvalidRequest("Ollama needs a model name", "model");
    MM_TRY(std::string body, ollama::EncodeChatRequest(request, model, options.stream));
    WireCall call;
    call.path = std::string(Capabilities::kChatPath);
    call.body = std::move(body);
    return call;
  }

  Result<ChatResponse> DecodeChat(std::string_view body) const override {
    return ollama::DecodeChatResponse(body);
  }

  std::unique_ptr<StreamDecoder> NewStreamDecoder() const override {
    return std::make_unique<ollama::OllamaStreamDecoder>();
  }

  Error DecodeError(int http_status, std::string_view body) const override {
    return ollama::DecodeError(http_status, body);
  }

  Result<WireCall> EncodeEmbeddings(const EmbeddingRequest& request,
                                    const CallOptions& options) const override {
    const std::string_view model = ModelOf(request.model, options);
    if (model.empty()) return InvalidRequest("Ollama needs a model name", "model");
    MM_TRY(std::string body, ollama::EncodeEmbeddingRequest(request, model));
    WireCall call;
    call.path = std::string(Capabilities::kEmbedPath);
    call.body = std::move(body);
    return call;
  }

  Result<EmbeddingResponse> DecodeEmbeddings(std::string_view body) const override {
    return ollama::DecodeEmbeddingResponse(body);
  }
};

}  // namespace

const UpstreamDialect& OllamaUpstream() {
  static const Upstream kUpstream;
  return kUpstream;
}

}  // namespace modelmux::dialects
