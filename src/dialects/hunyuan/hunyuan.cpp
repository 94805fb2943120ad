#include "dialects/hunyuan/hunyuan.hpp"

#include "dialects/hunyuan/capabilities.hpp"
#include "dialects/hunyuan/errors.hpp"
#include "dialects/hunyuan/request.hpp"
#include "dialects/hunyuan/response.hpp"
#include "dialects/hunyuan/stream.hpp"

namespace modelmux::dialects {
namespace {

using hunyuan::Capabilities;

WireCall Call(std::string_view action, std::string body) {
  WireCall call;
  call.path = std::string(Capabilities::kPath);
  call.headers.emplace_back("X-TC-Action", std::string(action));
  call.headers.emplace_back("X-TC-Version", std::string(Capabilities::kVersion));
  call.body = std::move(body);
  return call;
}

class Upstream final : public UpstreamDialect {
 public:
  std::string_view name() const override { return "hunyuan"; }

  Result<WireCall> EncodeChat(const ChatRequest& request,
                              const CallOptions& options) const override {
    const std::string_view model =
        options.upstream_model.empty() ? std::string_view(request.model) : options.upstream_model;
    if (model.empty()) return InvalidRequest("Hunyuan needs a model name", "model");
    MM_TRY(std::string body, hunyuan::EncodeChatRequest(request, model, options.stream));
    return Call(Capabilities::kChatAction, std::move(body));
  }

  Result<ChatResponse> DecodeChat(std::string_view body) const override {
    return hunyuan::DecodeChatResponse(body);
  }

  std::unique_ptr<StreamDecoder> NewStreamDecoder() const override {
    return std::make_unique<hunyuan::HunyuanStreamDecoder>();
  }

  Error DecodeError(int http_status, std::string_view body) const override {
    return hunyuan::DecodeError(http_status, body);
  }

  Result<WireCall> EncodeEmbeddings(const EmbeddingRequest& request,
                                    const CallOptions& /*options*/) const override {
    MM_TRY(std::string body, hunyuan::EncodeEmbeddingRequest(request));
    return Call(Capabilities::kEmbeddingAction, std::move(body));
  }

  Result<EmbeddingResponse> DecodeEmbeddings(std::string_view body) const override {
    return hunyuan::DecodeEmbeddingResponse(body);
  }
};

}  // namespace

const UpstreamDialect& HunyuanUpstream() {
  static const Upstream kUpstream;
  return kUpstream;
}

}  // namespace modelmux::dialects
