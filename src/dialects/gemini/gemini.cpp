#include "dialects/gemini/gemini.hpp"

#include "dialects/gemini/embeddings.hpp"
#include "dialects/gemini/errors.hpp"
#include "dialects/gemini/request.hpp"
#include "dialects/gemini/response.hpp"
#include "dialects/gemini/stream.hpp"

namespace modelmux::dialects {
namespace {

class Upstream final : public UpstreamDialect {
 public:
  std::string_view name() const override { return "gemini"; }

  Result<WireCall> EncodeChat(const ChatRequest& request,
                              const CallOptions& options) const override {
    MM_TRY(std::string body, gemini::EncodeGenerateContentRequest(request));
    WireCall call;
    const std::string& model =
        options.upstream_model.empty() ? request.model : options.upstream_model;
    call.path = gemini::GenerateContentPath(model, options.stream);
    call.body = std::move(body);
    return call;
  }

  Result<ChatResponse> DecodeChat(std::string_view body) const override {
    return gemini::DecodeGenerateContentResponse(body);
  }

  std::unique_ptr<StreamDecoder> NewStreamDecoder() const override {
    return std::make_unique<gemini::GenerateContentStreamDecoder>();
  }

  Error DecodeError(int http_status, std::string_view body) const override {
    return gemini::DecodeError(http_status, body);
  }

  Result<WireCall> EncodeEmbeddings(const EmbeddingRequest& request,
                                    const CallOptions& options) const override {
    const std::string& model =
        options.upstream_model.empty() ? request.model : options.upstream_model;
    MM_TRY(std::string body, gemini::EncodeBatchEmbedRequest(request, model));
    WireCall call;
    call.path = gemini::BatchEmbedContentsPath(model);
    call.body = std::move(body);
    return call;
  }

  Result<EmbeddingResponse> DecodeEmbeddings(std::string_view body) const override {
    return gemini::DecodeBatchEmbedResponse(body);
  }
};

}  // namespace

const UpstreamDialect& GeminiUpstream() {
  static const Upstream kUpstream;
  return kUpstream;
}

}  // namespace modelmux::dialects
