#include "dialects/anthropic/anthropic.hpp"

#include "dialects/anthropic/capabilities.hpp"
#include "dialects/anthropic/errors.hpp"
#include "dialects/anthropic/request.hpp"
#include "dialects/anthropic/response.hpp"
#include "dialects/anthropic/stream.hpp"

namespace modelmux::dialects {
namespace {

class Upstream final : public UpstreamDialect {
 public:
  std::string_view name() const override { return "anthropic"; }

  Result<WireCall> EncodeChat(const ChatRequest& request,
                              const CallOptions& options) const override {
    MM_TRY(std::string body,
           anthropic::EncodeMessagesRequest(request, options.upstream_model, options.stream));
    WireCall call;
    call.path = "/messages";
    const std::string_view version = options.api_version.empty()
                                         ? anthropic::Capabilities::kApiVersion
                                         : std::string_view(options.api_version);
    call.headers.emplace_back("anthropic-version", std::string(version));
    if (anthropic::ReferencesFiles(request)) {
      call.headers.emplace_back("anthropic-beta", std::string(anthropic::kFilesApiBeta));
    }
    call.body = std::move(body);
    return call;
  }

  Result<ChatResponse> DecodeChat(std::string_view body) const override {
    return anthropic::DecodeMessagesResponse(body);
  }

  std::unique_ptr<StreamDecoder> NewStreamDecoder() const override {
    return std::make_unique<anthropic::MessagesStreamDecoder>();
  }

  Error DecodeError(int http_status, std::string_view body) const override {
    return anthropic::DecodeError(http_status, body);
  }
};

class Ingress final : public IngressDialect {
 public:
  std::string_view name() const override { return "anthropic"; }

  Result<ChatRequest> DecodeRequest(std::string_view body) const override {
    return anthropic::DecodeMessagesRequest(body);
  }
  Result<ChatRequest> DecodeRequestReleasing(std::string& body) const override {
    return anthropic::DecodeMessagesRequestReleasing(body);
  }

  std::string EncodeResponse(const ChatResponse& response) const override {
    return anthropic::EncodeMessagesResponse(response);
  }

  std::unique_ptr<StreamEncoder> NewStreamEncoder(const ChatRequest& request) const override {
    return std::make_unique<anthropic::MessagesStreamEncoder>(request.model);
  }

  std::string EncodeError(const Error& error) const override {
    return anthropic::EncodeError(error);
  }
};

}  // namespace

const UpstreamDialect& AnthropicUpstream() {
  static const Upstream kUpstream;
  return kUpstream;
}

const IngressDialect& AnthropicIngress() {
  static const Ingress kIngress;
  return kIngress;
}

}  // namespace modelmux::dialects
