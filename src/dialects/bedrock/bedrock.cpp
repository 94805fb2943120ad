#include "dialects/bedrock/bedrock.hpp"

#include "dialects/bedrock/capabilities.hpp"
#include "dialects/bedrock/errors.hpp"
#include "dialects/bedrock/request.hpp"
#include "dialects/bedrock/response.hpp"
#include "dialects/bedrock/stream.hpp"

namespace modelmux::dialects {
namespace {

using bedrock::Capabilities;

class Upstream final : public UpstreamDialect {
 public:
  std::string_view name() const override { return "bedrock"; }

  Result<WireCall> EncodeChat(const ChatRequest& request,
                              const CallOptions& options) const override {
    MM_TRY(std::string body, bedrock::EncodeConverseRequest(request));
    WireCall call;
    const std::string& model =
        options.upstream_model.empty() ? request.model : options.upstream_model;
    call.path = bedrock::ConversePath(model, options.stream);
    if (options.stream) call.headers.emplace_back("accept", "application/vnd.amazon.eventstream");
    call.body = std::move(body);
    return call;
  }

  Result<ChatResponse> DecodeChat(std::string_view body) const override {
    return bedrock::DecodeConverseResponse(body);
  }

  std::unique_ptr<StreamDecoder> NewStreamDecoder() const override {
    return std::make_unique<bedrock::ConverseStreamDecoder>();
  }

  Error DecodeError(int http_status, std::string_view body) const override {
    return bedrock::DecodeError(http_status, body);
  }

  Result<WireCall> EncodeEmbeddings(const EmbeddingRequest& request,
                                    const CallOptions& options) const override {
    const std::string& model =
        options.upstream_model.empty() ? request.model : options.upstream_model;
    // Inference-profile prefixes (us., eu., global.) do not exist for Titan; match the family.
    if (model.find(Capabilities::kTitanPrefix) == std::string::npos) {
      Error e = UnsupportedEmbeddings(name());
      e.message = "only Titan text embedding models are supported on bedrock";
      return e;
    }
    MM_TRY(std::string body, bedrock::EncodeTitanEmbeddingRequest(request));
    WireCall call;
    call.path = bedrock::ModelPath(model, "invoke");
    call.headers.emplace_back("accept", "application/json");
    call.body = std::move(body);
    return call;
  }

  Result<EmbeddingResponse> DecodeEmbeddings(std::string_view body) const override {
    return bedrock::DecodeTitanEmbeddingResponse(body);
  }
};

}  // namespace

const UpstreamDialect& BedrockUpstream() {
  static const Upstream kUpstream;
  return kUpstream;
}

}  // namespace modelmux::dialects
