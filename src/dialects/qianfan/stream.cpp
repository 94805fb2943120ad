// ErnieStreamDecoder: Qianfan legacy SSE bytes -> neutral StreamEvents.
#include "dialects/qianfan/stream.hpp"

#include <optional>
#include <string>

#include "core/sse.hpp"
#include "dialects/qianfan/errors.hpp"
#include "dialects/qianfan/wire.hpp"

namespace modelmux::dialects::qianfan {
namespace {

using namespace detail;  // NOLINT: internal helpers of this dialect

constexpr size_t kMaxRawBody = 1 << 20;

Error StreamError(std::string message, std::string code) {
  Error e;
  e.kind = ErrorKind::kUpstreamError;
  e.provider = "qianfan";
  e.message = std::move(message);
  e.code = std::move(code);
  return e;
}

}  // namespace

struct ErnieStreamDecoder::State {
  enum class Mode { kUnknown, kSse, kJson };
  Mode mode = Mode::kUnknown;
  SseParser parser;
  std::string raw;  // kJson: the body so far
  std::string id;
  int64_t created = 0;
  std::optional<Usage> usage;
  bool role_sent = false;
  bool done = false;
  std::optional<Error> error;

  StreamEvent Event() const {
    StreamEvent ev;
    ev.id = id;
    ev.created = created;
    return ev;
  }

  void Emit(StreamDelta d, std::vector<StreamEvent>& out) {
    if (!role_sent) {
      d.role = "assistant";
      role_sent = true;
    }
    StreamEvent ev = Event();
    ev.deltas.push_back(std::move(d));
    out.push_back(std::move(ev));
  }

  // One chunk object (an SSE event's data, or the whole body in kJson mode).
  Status OnChunk(std::string_view data, std::vector<StreamEvent>& out) {
    if (done) return OkStatus();
    if (auto e = ErrorFromBody(data, 200)) return *e;
    auto v = Parse(data);
    if (!v || !v->is_object()) {
      return StreamError("Malformed upstream stream event", "bad_upstream_response");
    }
    const json::object& o = v->get_object();
    if (std::string chunk_id = Str(o, "id"); !chunk_id.empty()) id = std::move(chunk_id);
    if (const json::value* c = o.if_contains("created")) created = AsInt(*c).value_or(created);
    if (auto u = UsageOf(o)) usage = u;
    StreamDelta d;
    d.text = Str(o, "result");
    if (const json::value* fc = o.if_contains("function_call"); fc && fc->is_object()) {
      const json::object& f = fc->get_object();
      std::string args = Str(f, "arguments");
      d.tool_calls.push_back({0, "call_" + id, Str(f, "name"), args.empty() ? "{}" : args});
    }
    if (!role_sent || !d.text.empty() || !d.tool_calls.empty()) Emit(std::move(d), out);
    if (!IsTrue(o, "is_end")) return OkStatus();
    done = true;
    StreamDelta last;
    last.finish_reason_raw = Str(o, "finish_reason");
    last.finish_reason = ParseFinishReason(last.finish_reason_raw, IsTrue(o, "is_truncated"));
    if (last.finish_reason == FinishReason::kNone) last.finish_reason = FinishReason::kStop;
    Emit(std::move(last), out);
    StreamEvent ev = Event();
    if (usage) {
      ev.kind = StreamEvent::Kind::kUsage;
      ev.usage = usage;
      out.push_back(ev);
      ev.usage.reset();
    }
    ev.kind = StreamEvent::Kind::kDone;
    out.push_back(std::move(ev));
    return OkStatus();
  }

  Status OnFrames(const std::vector<SseEvent>& frames, std::vector<StreamEvent>& out) {
    for (const auto& f : frames) {
      if (!f.has_data) continue;
      MM_RETURN_IF_ERROR(OnChunk(f.data, out));
    }
    return OkStatus();
  }

  Status FeedRaw(std::string_view bytes, std::vector<StreamEvent>& out) {
    raw.append(bytes);
    if (raw.size() > kMaxRawBody) {
      return StreamError("Upstream stream body too large", "bad_upstream_response");
    }
    if (auto v = Parse(raw); v && v->is_object()) {
      raw.clear();
      // A whole answer: it is the last chunk whether it says so or not.
      if (!v->get_object().contains("error_code")) v->get_object()["is_end"] = true;
      return OnChunk(json::serialize(*v), out);
    }
    return OkStatus();  // incomplete: wait for more bytes
  }

  Status FeedBytes(std::string_view bytes, std::vector<StreamEvent>& out) {
    if (mode == Mode::kUnknown) {
      const size_t first = bytes.find_first_not_of(" \t\r\n");
      if (first == std::string_view::npos) return OkStatus();  // only whitespace so far
      mode = bytes[first] == '{' ? Mode::kJson : Mode::kSse;
      bytes.remove_prefix(first);
    }
    if (mode == Mode::kJson) return FeedRaw(bytes, out);
    std::vector<SseEvent> frames;
    if (!parser.Feed(bytes, frames)) {
      return StreamError("Upstream stream event too large", "bad_upstream_response");
    }
    return OnFrames(frames, out);
  }

  Status Remember(Status s) {
    if (!s.ok()) error = s.error();
    return s;
  }
};

ErnieStreamDecoder::ErnieStreamDecoder() : st_(std::make_unique<State>()) {}
ErnieStreamDecoder::~ErnieStreamDecoder() = default;

Status ErnieStreamDecoder::Feed(std::string_view bytes, std::vector<StreamEvent>& out) {
  if (st_->error) return *st_->error;
  return st_->Remember(st_->FeedBytes(bytes, out));
}

Status ErnieStreamDecoder::Finish(std::vector<StreamEvent>& out) {
  if (st_->error) return *st_->error;
  if (st_->mode == State::Mode::kSse) {
    std::vector<SseEvent> frames;
    st_->parser.Finish(frames);
    MM_RETURN_IF_ERROR(st_->Remember(st_->OnFrames(frames, out)));
  } else if (st_->mode == State::Mode::kJson && !st_->raw.empty()) {
    return st_->Remember(StreamError("Malformed upstream stream body", "bad_upstream_response"));
  }
  if (!st_->done) {
    return st_->Remember(
        StreamError("The upstream stream ended before the chunk with is_end", "stream_cut"));
  }
  return OkStatus();
}

}  // namespace modelmux::dialects::qianfan
