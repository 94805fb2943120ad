#include "dialects/dashscope/dashscope.hpp"

#include "dialects/dashscope/capabilities.hpp"
#include "dialects/dashscope/errors.hpp"
#include "dialects/dashscope/request.hpp"
#include "dialects/dashscope/response.hpp"
#include "dialects/dashscope/stream.hpp"

namespace modelmux::dialects {
namespace {

using dashscope::Capabilities;

class Upstream final : public UpstreamDialect {
 public:
  std::string_view name() const override { return "dashscope"; }

  Result<WireCall> EncodeChat(const ChatRequest& request,
                              const CallOptions& options) const override {
    const std::string_view model =
        options.upstream_model.empty() ? std::string_view(request.model) : options.upstream_model;
    if (model.empty()) return InvalidRequest("DashScope needs a model name", "model");
    const bool multimodal = dashscope::IsMultimodal(model, request);
    MM_TRY(std::string body,
           dashscope::EncodeChatRequest(request, model, options.stream, multimodal));
    WireCall call;
    call.path = std::string(multimodal ? Capabilities::kMultimodalPath : Capabilities::kTextPath);
    if (options.stream) {
      call.headers.emplace_back(std::string(Capabilities::kSseHeader), "enable");
      call.headers.emplace_back("Accept", "text/event-stream");
    }
    call.body = std::move(body);
    return call;
  }

  Result<ChatResponse> DecodeChat(std::string_view body) const override {
    return dashscope::DecodeChatResponse(body);
  }

  std::unique_ptr<StreamDecoder> NewStreamDecoder() const override {
    return std::make_unique<dashscope::DashScopeStreamDecoder>();
  }

  Error DecodeError(int http_status, std::string_view body) const override {
    return dashscope::DecodeError(http_status, body);
  }

  Result<WireCall> EncodeEmbeddings(const EmbeddingRequest& request,
                                    const CallOptions& options) const override {
    const std::string_view model =
        options.upstream_model.empty() ? std::string_view(request.model) : options.upstream_model;
    if (model.empty()) return InvalidRequest("DashScope needs a model name", "model");
    MM_TRY(std::string body, dashscope::EncodeEmbeddingsRequest(request, model));
    WireCall call;
    call.path = std::string(Capabilities::kEmbeddingsPath);
    call.body = std::move(body);
    return call;
  }

  Result<EmbeddingResponse> DecodeEmbeddings(std::string_view body) const override {
    return dashscope::DecodeEmbeddingsResponse(body);
  }
};

}  // namespace

const UpstreamDialect& DashScopeUpstream() {
  static const Upstream kUpstream;
  return kUpstream;
}

}  // namespace modelmux::dialects
