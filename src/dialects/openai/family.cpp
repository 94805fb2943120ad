#include "dialects/openai/family.hpp"

#include "dialects/openai/family_errors.hpp"
#include "dialects/openai/openai.hpp"

namespace modelmux::dialects {
namespace {

using ErrorDecoder = Error (*)(int, std::string_view);

bool Unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (Unreserved(c)) {
      out.push_back(c);
    } else {
      auto b = static_cast<unsigned char>(c);
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 0xF]);
    }
  }
  return out;
}

// The OpenAI dialect with another error mapping (and, for Azure, deployment paths).
class FamilyUpstream final : public UpstreamDialect {
 public:
  FamilyUpstream(std::string_view name, ErrorDecoder errors, bool deployment_paths)
      : name_(name), errors_(errors), deployment_paths_(deployment_paths) {}

  std::string_view name() const override { return name_; }

  Result<WireCall> EncodeChat(const ChatRequest& request,
                              const CallOptions& options) const override {
    MM_TRY(WireCall call, Inner().EncodeChat(request, options));
    return Place(std::move(call), options);
  }
  Result<ChatResponse> DecodeChat(std::string_view body) const override {
    return Inner().DecodeChat(body);
  }
  std::unique_ptr<StreamDecoder> NewStreamDecoder() const override {
    return Inner().NewStreamDecoder();
  }
  Error DecodeError(int http_status, std::string_view body) const override {
    return errors_(http_status, body);
  }
  Result<WireCall> EncodeEmbeddings(const EmbeddingRequest& request,
                                    const CallOptions& options) const override {
    MM_TRY(WireCall call, Inner().EncodeEmbeddings(request, options));
    return Place(std::move(call), options);
  }
  Result<EmbeddingResponse> DecodeEmbeddings(std::string_view body) const override {
    return Inner().DecodeEmbeddings(body);
  }

 private:
  static const UpstreamDialect& Inner() { return OpenAiUpstream(); }

  WireCall Place(WireCall call, const CallOptions& options) const {
    if (deployment_paths_) {
      call.path = AzureDeploymentPath(call.path, options.upstream_model, options.api_version);
    }
    return call;
  }

  std::string_view name_;
  ErrorDecoder errors_;
  bool deployment_paths_;
};

}  // namespace

std::string AzureDeploymentPath(std::string_view endpoint, std::string_view deployment,
                                std::string_view api_version) {
  if (api_version.empty()) api_version = kAzureDefaultApiVersion;
  std::string path = "/openai/deployments/" + PercentEncode(deployment);
  path += endpoint;
  path += endpoint.find('?') == std::string_view::npos ? "?api-version=" : "&api-version=";
  path += PercentEncode(api_version);
  return path;
}

const UpstreamDialect& AzureUpstream() {
  static const FamilyUpstream kImpl("azure", &openai::DecodeAzureError, true);
  return kImpl;
}

const UpstreamDialect& AzureV1Upstream() {
  static const FamilyUpstream kImpl("azure", &openai::DecodeAzureError, false);
  return kImpl;
}

const UpstreamDialect& ZhipuUpstream() {
  static const FamilyUpstream kImpl("zhipu", &openai::DecodeZhipuError, false);
  return kImpl;
}

const UpstreamDialect& DeepSeekUpstream() {
  static const FamilyUpstream kImpl("deepseek", &openai::DecodeDeepSeekError, false);
  return kImpl;
}

const UpstreamDialect& MoonshotUpstream() {
  static const FamilyUpstream kImpl("moonshot", &openai::DecodeMoonshotError, false);
  return kImpl;
}

const UpstreamDialect* OpenAiFamilyUpstream(std::string_view provider_type) {
  if (provider_type == "azure") return &AzureUpstream();
  if (provider_type == "zhipu") return &ZhipuUpstream();
  if (provider_type == "deepseek") return &DeepSeekUpstream();
  if (provider_type == "moonshot") return &MoonshotUpstream();
  return nullptr;
}

}  // namespace modelmux::dialects
