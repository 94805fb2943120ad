#include "dialects/openai/openai.hpp"

#include "core/sse.hpp"
#include "dialects/openai/embeddings.hpp"
#include "dialects/openai/errors.hpp"
#include "dialects/openai/request.hpp"
#include "dialects/openai/response.hpp"
#include "dialects/openai/stream.hpp"

namespace modelmux::dialects {
namespace {

class OpenAiStreamDecoder final : public StreamDecoder {
 public:
  Status Feed(std::string_view bytes, std::vector<StreamEvent>& out) override {
    if (!parser_.Feed(bytes, events_)) {
      return Error{ErrorKind::kUpstreamError, "upstream stream event too large"};
    }
    for (const auto& ev : events_) {
      auto decoded = decoder_.OnEvent(ev);
      if (!decoded.ok()) return std::move(decoded).error();
      if (!*decoded) continue;
      if ((*decoded)->kind == StreamEvent::Kind::kError) {
        Error e;
        e.kind = ErrorKind::kUpstreamError;
        e.code = "upstream_stream_error";
        e.message = (*decoded)->error_message;
        events_.clear();
        return e;
      }
      out.push_back(std::move(**decoded));
    }
    events_.clear();
    return OkStatus();
  }

  Status Finish(std::vector<StreamEvent>& out) override {
    parser_.Finish(events_);
    if (!events_.empty()) {
      auto st = Feed({}, out);
      if (!st.ok()) return st;
    }
    if (!decoder_.done()) {
      Error e;
      e.kind = ErrorKind::kUpstreamError;
      e.code = "stream_cut";
      e.message = "the upstream stream ended before it was complete";
      return e;
    }
    return OkStatus();
  }

 private:
  SseParser parser_;
  openai::StreamDecoder decoder_;
  std::vector<SseEvent> events_;
};

class OpenAiUpstreamImpl final : public UpstreamDialect {
 public:
  std::string_view name() const override { return "openai"; }
  Result<WireCall> EncodeChat(const ChatRequest& request,
                              const CallOptions& options) const override {
    ChatRequest r = request;
    r.stream = options.stream;
    WireCall call;
    call.path = "/chat/completions";
    call.body = openai::EncodeChatRequest(r, options.upstream_model, options.stream);
    if (options.stream) call.headers.emplace_back("accept", "text/event-stream");
    return call;
  }
  Result<ChatResponse> DecodeChat(std::string_view body) const override {
    return openai::DecodeChatResponse(body);
  }
  std::unique_ptr<StreamDecoder> NewStreamDecoder() const override {
    return std::make_unique<OpenAiStreamDecoder>();
  }
  Error DecodeError(int http_status, std::string_view body) const override {
    return openai::DecodeError(http_status, body, "openai");
  }
  // POST /embeddings (callers reach Azure's deployment path through Provider::OpenAiPath).
  Result<WireCall> EncodeEmbeddings(const EmbeddingRequest& request,
                                    const CallOptions& options) const override {
    WireCall call;
    call.path = "/embeddings";
    call.body = openai::EncodeEmbeddingRequest(request, options.upstream_model);
    return call;
  }
  Result<EmbeddingResponse> DecodeEmbeddings(std::string_view body) const override {
    return openai::DecodeEmbeddingResponse(body);
  }
};

class OpenAiStreamEncoder final : public StreamEncoder {
 public:
  explicit OpenAiStreamEncoder(bool include_usage) : include_usage_(include_usage) {}
  std::string Encode(const StreamEvent& event) override {
    if (event.kind == StreamEvent::Kind::kDone) return {};  // written by Finish
    if (event.kind == StreamEvent::Kind::kUsage && !include_usage_) return {};
    if (event.kind == StreamEvent::Kind::kDelta && event.deltas.empty()) return {};
    return openai::EncodeStreamChunk(event);
  }
  std::string Finish(const std::optional<Usage>&, const Error* error) override {
    if (error) return "data: " + openai::EncodeError(*error) + "\n\n";
    StreamEvent done;
    done.kind = StreamEvent::Kind::kDone;
    return openai::EncodeStreamChunk(done);
  }

 private:
  bool include_usage_;
};

class OpenAiIngressImpl final : public IngressDialect {
 public:
  std::string_view name() const override { return "openai"; }
  Result<ChatRequest> DecodeRequest(std::string_view body) const override {
    return openai::DecodeChatRequest(body);
  }
  Result<ChatRequest> DecodeRequestReleasing(std::string& body) const override {
    return openai::DecodeChatRequestReleasing(body);
  }
  std::string EncodeResponse(const ChatResponse& response) const override {
    return openai::EncodeChatResponse(response);
  }
  std::unique_ptr<StreamEncoder> NewStreamEncoder(const ChatRequest& request) const override {
    return std::make_unique<OpenAiStreamEncoder>(request.include_usage);
  }
  std::string EncodeError(const Error& error) const override { return openai::EncodeError(error); }
};

}  // namespace

const UpstreamDialect& OpenAiUpstream() {
  static const OpenAiUpstreamImpl kImpl;
  return kImpl;
}

const IngressDialect& OpenAiIngress() {
  static const OpenAiIngressImpl kImpl;
  return kImpl;
}

}  // namespace modelmux::dialects
