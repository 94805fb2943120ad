#pragma once
// The two faces of a wire dialect, as pure functions over bytes (no sockets, no clocks):
//
// - UpstreamDialect: how modelmux talks to a provider. Encodes a neutral ChatRequest into the
//   provider's HTTP call, decodes its answers (whole or streamed) and its errors.
// - IngressDialect: how a caller talks to modelmux (OpenAI Chat Completions, Anthropic Messages).
//   Decodes the caller's request and encodes answers, stream events and errors in its vocabulary.
//
// One folder per dialect under src/dialects/<name>/ with request, response, stream, errors and
// capabilities files (STYLE.md rule 4); each exposes its implementations through a factory
// declared in its own header, e.g. `const UpstreamDialect& AnthropicUpstream();`.

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/chat.hpp"
#include "core/embedding.hpp"
#include "core/result.hpp"

namespace modelmux::dialects {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

// What an upstream dialect produces for one call. Credentials are not part of it: the provider's
// signer adds them to the final HTTP request (and may sign the exact body bytes).
struct WireCall {
  std::string method = "POST";
  std::string path;    // appended to the provider's base URL, with any query ("?alt=sse")
  HeaderList headers;  // dialect headers, e.g. anthropic-version, X-DashScope-SSE
  std::string body;
};

struct CallOptions {
  std::string upstream_model;  // the provider's model (or deployment) name
  bool stream = false;
  std::string api_version;  // e.g. Azure's api-version, Anthropic's version header override
};

// Incremental decoder of one streamed answer. It owns the framing (SSE, NDJSON, AWS event
// stream), so bytes may be split anywhere between Feed() calls.
class StreamDecoder {
 public:
  virtual ~StreamDecoder() = default;
  // Complete events are appended to `out`. An error means the stream is broken or the provider
  // sent an in-band error (returned with the provider's code kept); nothing after it is valid.
  [[nodiscard]] virtual Status Feed(std::string_view bytes, std::vector<StreamEvent>& out) = 0;
  // End of the HTTP body. Errors with code "stream_cut" when the dialect has a terminator and it
  // never came. Appends a final kDone event when the stream ended properly.
  [[nodiscard]] virtual Status Finish(std::vector<StreamEvent>& out) = 0;
};

class UpstreamDialect {
 public:
  virtual ~UpstreamDialect() = default;
  [[nodiscard]] virtual std::string_view name() const = 0;
  [[nodiscard]] virtual Result<WireCall> EncodeChat(const ChatRequest& request,
                                                    const CallOptions& options) const = 0;
  // A non-streamed answer that came with HTTP 2xx. Providers that put errors inside 200 bodies
  // (Baidu, Tencent) have them returned here as errors.
  [[nodiscard]] virtual Result<ChatResponse> DecodeChat(std::string_view body) const = 0;
  [[nodiscard]] virtual std::unique_ptr<StreamDecoder> NewStreamDecoder() const = 0;
  // An answer with a non-2xx status, mapped to the taxonomy with the provider's code kept and
  // its message masked of secrets. `retry_after` carries a server hint found in the body.
  [[nodiscard]] virtual Error DecodeError(int http_status, std::string_view body) const = 0;

  // Embeddings, for dialects whose provider has an embeddings API. The defaults refuse with
  // ErrorKind::kInvalidRequest, code "embeddings_not_supported" (see UnsupportedEmbeddings).
  [[nodiscard]] virtual Result<WireCall> EncodeEmbeddings(const EmbeddingRequest& request,
                                                          const CallOptions& options) const;
  [[nodiscard]] virtual Result<EmbeddingResponse> DecodeEmbeddings(std::string_view body) const;
};

// The error a dialect without an embeddings API returns.
[[nodiscard]] Error UnsupportedEmbeddings(std::string_view dialect);

// Stateful encoder of one streamed answer in a caller's dialect (Anthropic numbers its content
// blocks, so encoding needs memory of what was sent).
class StreamEncoder {
 public:
  virtual ~StreamEncoder() = default;
  // Bytes to send for one neutral event (possibly empty).
  [[nodiscard]] virtual std::string Encode(const StreamEvent& event) = 0;
  // Bytes that end the stream: normally after kDone; with an error, the dialect's error event.
  [[nodiscard]] virtual std::string Finish(const std::optional<Usage>& usage,
                                           const Error* error) = 0;
};

class IngressDialect {
 public:
  virtual ~IngressDialect() = default;
  [[nodiscard]] virtual std::string_view name() const = 0;
  [[nodiscard]] virtual Result<ChatRequest> DecodeRequest(std::string_view body) const = 0;
  // The same for a body not needed afterwards: its memory is released as soon as it is parsed
  // (left empty on success), so that large media is not held three times over.
  [[nodiscard]] virtual Result<ChatRequest> DecodeRequestReleasing(std::string& body) const {
    auto r = DecodeRequest(body);
    if (r.ok()) std::string().swap(body);
    return r;
  }
  [[nodiscard]] virtual std::string EncodeResponse(const ChatResponse& response) const = 0;
  [[nodiscard]] virtual std::unique_ptr<StreamEncoder> NewStreamEncoder(
      const ChatRequest& request) const = 0;
  [[nodiscard]] virtual std::string EncodeError(const Error& error) const = 0;
};

}  // namespace modelmux::dialects
