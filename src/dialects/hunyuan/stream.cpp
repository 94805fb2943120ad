// HunyuanStreamDecoder: Hunyuan native SSE bytes -> neutral StreamEvents.
#include "dialects/hunyuan/stream.hpp"

#include <algorithm>
#include <optional>
#include <string>

#include "core/sse.hpp"
#include "dialects/hunyuan/errors.hpp"
#include "dialects/hunyuan/wire.hpp"

namespace modelmux::dialects::hunyuan {
namespace {

using namespace detail;  // NOLINT: internal helpers of this dialect

constexpr size_t kMaxRawBody = 1 << 20;

Error StreamError(std::string message, std::string code) {
  Error e;
  e.kind = ErrorKind::kUpstreamError;
  e.provider = "hunyuan";
  e.message = std::move(message);
  e.code = std::move(code);
  return e;
}

}  // namespace

struct HunyuanStreamDecoder::State {
  enum class Mode { kUnknown, kSse, kJson };
  Mode mode = Mode::kUnknown;
  SseParser parser;
  std::string raw;  // kJson: the body so far
  std::string id;
  int64_t created = 0;
  std::optional<Usage> usage;
  bool role_sent = false;
  bool done = false;
  std::vector<std::string> call_ids;  // tool-call Id per index
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

  void ToolFragments(const json::object& delta, StreamDelta& d) {
    const json::value* calls = delta.if_contains("ToolCalls");
    if (calls == nullptr || !calls->is_array()) return;
    for (const json::value& c : calls->get_array()) {
      if (!c.is_object()) continue;
      const json::object& co = c.get_object();
      const json::object* f = Obj(co, "Function");
      StreamDelta::ToolCallFragment frag;
      const std::string call_id = Str(co, "Id");
      auto at = std::find(call_ids.begin(), call_ids.end(), call_id);
      if (call_id.empty() && !call_ids.empty()) {
        at = call_ids.end() - 1;  // no Id: the call in progress
      }
      if (at == call_ids.end()) {  // a new call (or the first one, without an Id)
        call_ids.push_back(call_id);
        at = call_ids.end() - 1;
        frag.id = call_id;
        frag.name = f != nullptr ? Str(*f, "Name") : std::string();
      }
      frag.index = static_cast<int>(at - call_ids.begin());
      if (f != nullptr) frag.arguments = Str(*f, "Arguments");
      d.tool_calls.push_back(std::move(frag));
    }
  }

  // One chunk object (an SSE event's data, or the whole body in kJson mode).
  Status OnChunk(std::string_view data, std::vector<StreamEvent>& out) {
    if (done) return OkStatus();
    if (auto e = ErrorFromBody(data, 200)) return *e;
    auto v = Parse(data);
    if (!v || !v->is_object()) {
      return StreamError("Malformed upstream stream event", "bad_upstream_response");
    }
    const json::object* o = &v->get_object();
    if (const json::object* inner = Obj(*o, "Response")) o = inner;
    if (std::string chunk_id = Str(*o, "Id"); !chunk_id.empty()) id = std::move(chunk_id);
    if (const json::value* c = o->if_contains("Created")) created = AsInt(*c).value_or(created);
    if (auto u = UsageOf(*o)) usage = u;
    const json::value* choices = o->if_contains("Choices");
    if (choices == nullptr || !choices->is_array() || choices->get_array().empty()) {
      return OkStatus();  // e.g. a chunk with only Usage or Note
    }
    const json::object* choice = choices->get_array()[0].if_object();
    if (choice == nullptr) return OkStatus();
    StreamDelta d;
    if (const json::object* delta = Obj(*choice, "Delta")) {
      d.text = Str(*delta, "Content");
      d.reasoning = Str(*delta, "ReasoningContent");
      ToolFragments(*delta, d);
    } else if (const json::object* message = Obj(*choice, "Message")) {
      d.text = Str(*message, "Content");  // a whole answer in kJson mode
      ToolFragments(*message, d);
    }
    if (!role_sent || !d.text.empty() || !d.reasoning.empty() || !d.tool_calls.empty()) {
      Emit(std::move(d), out);
    }
    StreamDelta last;
    last.finish_reason_raw = Str(*choice, "FinishReason");
    if (last.finish_reason_raw.empty()) return OkStatus();
    done = true;
    last.finish_reason = ParseFinishReason(last.finish_reason_raw);
    if (!call_ids.empty() && last.finish_reason == FinishReason::kStop) {
      last.finish_reason = FinishReason::kToolCalls;
    }
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

  Status FeedRaw(std::string_view bytes) {
    raw.append(bytes);
    if (raw.size() > kMaxRawBody) {
      return StreamError("Upstream stream body too large", "bad_upstream_response");
    }
    auto v = Parse(raw);
    if (!v || !v->is_object()) return OkStatus();  // incomplete: wait for more bytes
    raw.clear();
    if (auto e = ErrorFromBody(json::serialize(*v), 200)) return *e;
    return StreamError("Expected an SSE stream, got a JSON body", "bad_upstream_response");
  }

  Status FeedBytes(std::string_view bytes, std::vector<StreamEvent>& out) {
    if (mode == Mode::kUnknown) {
      const size_t first = bytes.find_first_not_of(" \t\r\n");
      if (first == std::string_view::npos) return OkStatus();  // only whitespace so far
      mode = bytes[first] == '{' ? Mode::kJson : Mode::kSse;
      bytes.remove_prefix(first);
    }
    if (mode == Mode::kJson) return FeedRaw(bytes);
    std::vector<SseEvent> frames;
    if (!parser.Feed(bytes, frames)) {
      return StreamError("Upstream stream event too large", "bad_upstream_response");
    }
    return OnFrames(frames, out);
  }

  Status OnFrames(const std::vector<SseEvent>& frames, std::vector<StreamEvent>& out) {
    for (const auto& f : frames) {
      if (!f.has_data) continue;
      MM_RETURN_IF_ERROR(OnChunk(f.data, out));
    }
    return OkStatus();
  }

  Status Remember(Status s) {
    if (!s.ok()) error = s.error();
    return s;
  }
};

HunyuanStreamDecoder::HunyuanStreamDecoder() : st_(std::make_unique<State>()) {}
HunyuanStreamDecoder::~HunyuanStreamDecoder() = default;

Status HunyuanStreamDecoder::Feed(std::string_view bytes, std::vector<StreamEvent>& out) {
  if (st_->error) return *st_->error;
  return st_->Remember(st_->FeedBytes(bytes, out));
}

Status HunyuanStreamDecoder::Finish(std::vector<StreamEvent>& out) {
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
        StreamError("The upstream stream ended before the chunk with FinishReason", "stream_cut"));
  }
  return OkStatus();
}

}  // namespace modelmux::dialects::hunyuan
