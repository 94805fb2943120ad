#include "dialects/qianfan/qianfan.hpp"

#include "dialects/qianfan/capabilities.hpp"
#include "dialects/qianfan/embeddings.hpp"
#include "dialects/qianfan/errors.hpp"
#include "dialects/qianfan/request.hpp"
#include "dialects/qianfan/response.hpp"
#include "dialects/qianfan/stream.hpp"

namespace modelmux::dialects {
namespace {

struct EndpointRow {
  std::string_view model;
  std::string_view endpoint;
};

constexpr EndpointRow kEndpoints[] = {
    {"ernie-4.0-8k", "completions_pro"},      {"ernie-bot-4", "completions_pro"},
    {"ernie-3.5-8k", "completions"},          {"ernie-bot", "completions"},
    {"ernie-lite-8k-0922", "eb-instant"},     {"ernie-speed-8k", "ernie_speed"},
    {"ernie-speed-128k", "ernie-speed-128k"}, {"ernie-lite-8k", "ernie-lite-8k"},
    {"ernie-tiny-8k", "ernie-tiny-8k"},       {"ernie-3.5-128k-preview", "ernie-3.5-128k-preview"},
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

class Upstream final : public UpstreamDialect {
 public:
  std::string_view name() const override { return "qianfan"; }

  Result<WireCall> EncodeChat(const ChatRequest& request,
                              const CallOptions& options) const override {
    const std::string_view model =
        options.upstream_model.empty() ? std::string_view(request.model) : options.upstream_model;
    if (model.empty()) return InvalidRequest("Qianfan needs a model name", "model");
    const std::string endpoint = QianfanEndpointFor(model);
    for (char c : endpoint) {
      const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_' || c == '.';
      if (!ok) {
        return InvalidRequest("Qianfan endpoint names use letters, digits, '-', '_' and '.'",
                              "model", "invalid_value");
      }
    }
    MM_TRY(std::string body, qianfan::EncodeChatRequest(request, options.stream));
    WireCall call;
    call.path = std::string(qianfan::Capabilities::kChatPath) + endpoint;
    call.body = std::move(body);
    return call;
  }

  Result<ChatResponse> DecodeChat(std::string_view body) const override {
    return qianfan::DecodeChatResponse(body);
  }

  std::unique_ptr<StreamDecoder> NewStreamDecoder() const override {
    return std::make_unique<qianfan::ErnieStreamDecoder>();
  }

  Error DecodeError(int http_status, std::string_view body) const override {
    return qianfan::DecodeError(http_status, body);
  }

  Result<WireCall> EncodeEmbeddings(const EmbeddingRequest& request,
                                    const CallOptions& options) const override {
    const std::string_view model =
        options.upstream_model.empty() ? std::string_view(request.model) : options.upstream_model;
    MM_TRY(std::string path, qianfan::EmbeddingsPath(model));
    WireCall call;
    call.path = std::move(path);
    call.body = qianfan::EncodeEmbeddingsRequest(request);
    return call;
  }

  Result<EmbeddingResponse> DecodeEmbeddings(std::string_view body) const override {
    return qianfan::DecodeEmbeddingsResponse(body);
  }
};

}  // namespace

std::string QianfanEndpointFor(std::string_view model) {
  const std::string lower = Lower(model);
  for (const auto& row : kEndpoints) {
    if (row.model == lower) return std::string(row.endpoint);
  }
  return std::string(model);
}

const UpstreamDialect& QianfanLegacyUpstream() {
  static const Upstream kUpstream;
  return kUpstream;
}

}  // namespace modelmux::dialects
