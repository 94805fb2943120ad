// MessagesStreamDecoder: Anthropic SSE bytes -> neutral StreamEvents.
#include "dialects/anthropic/stream.hpp"

#include "core/sse.hpp"
#include "dialects/anthropic/errors.hpp"
#include "dialects/anthropic/wire.hpp"

namespace modelmux::dialects::anthropic {
namespace {

using namespace detail;  // NOLINT: internal helpers of this dialect

Error StreamError(std::string message, std::string code) {
  Error e;
  e.kind = ErrorKind::kUpstreamError;
  e.provider = "anthropic";
  e.message = std::move(message);
  e.code = std::move(code);
  return e;
}

int IntOf(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v == nullptr ? -1 : static_cast<int>(AsInt(*v).value_or(-1));
}

const json::object* ObjectOf(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}

}  // namespace

struct MessagesStreamDecoder::State {
  struct ToolBlock {
    int order = 0;
    bool got_input = false;
  };
  SseParser parser;
  std::string id;
  std::string model;
  WireUsage usage;
  std::map<int, ToolBlock> tools;  // by wire block index
  int tool_count = 0;
  bool role_sent = false;
  bool done = false;
  std::optional<Error> error;

  void Emit(StreamDelta d, std::vector<StreamEvent>& out) {
    if (!role_sent) {
      d.role = "assistant";
      role_sent = true;
    }
    StreamEvent ev;
    ev.id = id;
    ev.model = model;
    ev.deltas.push_back(std::move(d));
    out.push_back(std::move(ev));
  }

  void EmitTool(int order, std::string id_, std::string name, std::string args,
                std::vector<StreamEvent>& out) {
    StreamDelta d;
    d.tool_calls.push_back({order, std::move(id_), std::move(name), std::move(args)});
    Emit(std::move(d), out);
  }

  void OnBlockStart(const json::object& o, std::vector<StreamEvent>& out) {
    const json::object* block = ObjectOf(o, "content_block");
    if (block == nullptr) return;
    const std::string type = Str(*block, "type");
    StreamDelta d;
    if (type == "text") {
      d.text = Str(*block, "text");
    } else if (type == "thinking") {
      d.reasoning = Str(*block, "thinking");
    } else if (type == "tool_use") {
      ToolBlock& tb = tools[IntOf(o, "index")];
      tb.order = tool_count++;
      std::string args;
      const json::object* input = ObjectOf(*block, "input");
      if (input != nullptr && !input->empty()) {
        args = json::serialize(*input);
        tb.got_input = true;
      }
      EmitTool(tb.order, Str(*block, "id"), Str(*block, "name"), std::move(args), out);
      return;
    }
    if (!d.text.empty() || !d.reasoning.empty()) Emit(std::move(d), out);
  }

  void OnBlockDelta(const json::object& o, std::vector<StreamEvent>& out) {
    const json::object* delta = ObjectOf(o, "delta");
    if (delta == nullptr) return;
    const std::string type = Str(*delta, "type");
    StreamDelta d;
    if (type == "text_delta") {
      d.text = Str(*delta, "text");
    } else if (type == "thinking_delta") {
      d.reasoning = Str(*delta, "thinking");
    } else if (type == "input_json_delta") {
      auto it = tools.find(IntOf(o, "index"));
      std::string part = Str(*delta, "partial_json");
      if (it == tools.end() || part.empty()) return;  // server tool input, or nothing new
      it->second.got_input = true;
      EmitTool(it->second.order, "", "", std::move(part), out);
      return;
    }
    if (!d.text.empty() || !d.reasoning.empty()) Emit(std::move(d), out);
  }

  void OnBlockStop(const json::object& o, std::vector<StreamEvent>& out) {
    auto it = tools.find(IntOf(o, "index"));
    if (it == tools.end() || it->second.got_input) return;
    it->second.got_input = true;
    EmitTool(it->second.order, "", "", "{}", out);  // as the non-streamed input {} reads
  }

  Status OnEvent(const SseEvent& ev, std::vector<StreamEvent>& out) {
    if (!ev.has_data || done) return OkStatus();
    auto v = Parse(ev.data);
    if (!v || !v->is_object()) {
      return StreamError("Malformed upstream stream event", "bad_upstream_response");
    }
    const json::object& o = v->get_object();
    std::string type = Str(o, "type");
    if (type.empty()) type = ev.event;
    if (type == "error") return DecodeStreamError(ev.data);
    if (type == "message_start") {
      if (const json::object* msg = ObjectOf(o, "message")) {
        id = Str(*msg, "id");
        model = Str(*msg, "model");
        if (const json::object* u = ObjectOf(*msg, "usage")) usage.Take(*u);
      }
      if (!role_sent) Emit(StreamDelta{}, out);
    } else if (type == "content_block_start") {
      OnBlockStart(o, out);
    } else if (type == "content_block_delta") {
      OnBlockDelta(o, out);
    } else if (type == "content_block_stop") {
      OnBlockStop(o, out);
    } else if (type == "message_delta") {
      if (const json::object* u = ObjectOf(o, "usage")) usage.Take(*u);
      const json::object* delta = ObjectOf(o, "delta");
      const std::string reason = delta != nullptr ? Str(*delta, "stop_reason") : "";
      if (!reason.empty()) {
        StreamDelta d;
        d.finish_reason = ParseStopReason(reason);
        d.finish_reason_raw = reason;
        Emit(std::move(d), out);
      }
    } else if (type == "message_stop") {
      done = true;
      StreamEvent last;
      last.id = id;
      last.model = model;
      if (usage.seen) {
        last.kind = StreamEvent::Kind::kUsage;
        last.usage = usage.ToUsage();
        out.push_back(last);
      }
      last.kind = StreamEvent::Kind::kDone;
      last.usage.reset();
      out.push_back(std::move(last));
    }
    // ping and event types added later carry nothing for us.
    return OkStatus();
  }

  Status OnEvents(const std::vector<SseEvent>& frames, std::vector<StreamEvent>& out) {
    for (const auto& f : frames) {
      Status s = OnEvent(f, out);
      if (!s.ok()) {
        error = s.error();
        return s;
      }
    }
    return OkStatus();
  }
};

MessagesStreamDecoder::MessagesStreamDecoder() : st_(std::make_unique<State>()) {}
MessagesStreamDecoder::~MessagesStreamDecoder() = default;

Status MessagesStreamDecoder::Feed(std::string_view bytes, std::vector<StreamEvent>& out) {
  if (st_->error) return *st_->error;
  std::vector<SseEvent> frames;
  if (!st_->parser.Feed(bytes, frames)) {
    st_->error = StreamError("Upstream stream event too large", "bad_upstream_response");
    return *st_->error;
  }
  return st_->OnEvents(frames, out);
}

Status MessagesStreamDecoder::Finish(std::vector<StreamEvent>& out) {
  if (st_->error) return *st_->error;
  std::vector<SseEvent> frames;
  st_->parser.Finish(frames);
  MM_RETURN_IF_ERROR(st_->OnEvents(frames, out));
  if (!st_->done) {
    st_->error = StreamError("The upstream stream ended before message_stop", "stream_cut");
    return *st_->error;
  }
  return OkStatus();
}

}  // namespace modelmux::dialects::anthropic
