#include "dialects/bedrock/stream.hpp"

#include <map>

#include "dialects/bedrock/errors.hpp"
#include "dialects/bedrock/eventstream.hpp"
#include "dialects/bedrock/response.hpp"
#include "dialects/bedrock/wire.hpp"

namespace modelmux::dialects::bedrock {

using namespace detail;  // NOLINT: internal helpers of this dialect

struct ConverseStreamDecoder::State {
  EventStreamParser parser;
  std::map<int64_t, int> tool_of_block;  // contentBlockIndex -> the call's order
  int tools = 0;
  bool role_sent = false;
  bool stopped = false;  // messageStop seen
  bool done = false;     // kDone emitted
  std::optional<Error> error;

  Status Fail(Error e) {
    error = e;
    return e;
  }

  StreamEvent Delta(StreamDelta d) {
    if (!role_sent) {
      d.role = "assistant";
      role_sent = true;
    }
    StreamEvent ev;
    ev.deltas.push_back(std::move(d));
    return ev;
  }

  int ToolFor(int64_t block) {
    auto it = tool_of_block.find(block);
    if (it != tool_of_block.end()) return it->second;
    return tool_of_block[block] = tools++;
  }

  Status OnEvent(std::string_view type, const json::object& o, std::vector<StreamEvent>& out) {
    const int64_t block =
        o.contains("contentBlockIndex") ? AsInt(o.at("contentBlockIndex")).value_or(0) : 0;
    if (type == "messageStart") {
      out.push_back(Delta(StreamDelta{}));
    } else if (type == "contentBlockStart") {
      const json::object* start = ObjectOf(o, "start");
      const json::object* use = start != nullptr ? ObjectOf(*start, "toolUse") : nullptr;
      if (use == nullptr) return OkStatus();
      StreamDelta d;
      d.tool_calls.push_back({ToolFor(block), Str(*use, "toolUseId"), Str(*use, "name"), ""});
      out.push_back(Delta(std::move(d)));
    } else if (type == "contentBlockDelta") {
      const json::object* delta = ObjectOf(o, "delta");
      if (delta == nullptr) return OkStatus();
      StreamDelta d;
      if (const json::value* text = delta->if_contains("text"); text && text->is_string()) {
        d.text = text->get_string();
      } else if (const json::object* use = ObjectOf(*delta, "toolUse")) {
        d.tool_calls.push_back({ToolFor(block), "", "", Str(*use, "input")});
      } else if (const json::object* r = ObjectOf(*delta, "reasoningContent")) {
        d.reasoning = Str(*r, "text");
        if (d.reasoning.empty()) return OkStatus();  // a signature piece
      } else {
        return OkStatus();
      }
      out.push_back(Delta(std::move(d)));
    } else if (type == "messageStop") {
      StreamDelta d;
      d.finish_reason_raw = Str(o, "stopReason");
      d.finish_reason = ParseStopReason(d.finish_reason_raw);
      stopped = true;
      out.push_back(Delta(std::move(d)));
    } else if (type == "metadata") {
      StreamEvent ev;
      if (const json::object* usage = ObjectOf(o, "usage")) {
        ev.kind = StreamEvent::Kind::kUsage;
        ev.usage = UsageFrom(*usage);
        out.push_back(ev);
      }
      ev = StreamEvent{};
      ev.kind = StreamEvent::Kind::kDone;
      out.push_back(std::move(ev));
      done = true;
    }
    return OkStatus();
  }

  Status OnMessage(const EventStreamMessage& m, std::vector<StreamEvent>& out) {
    const std::string_view kind = m.Header(":message-type");
    if (kind == "exception") {
      return DecodeStreamException(m.Header(":exception-type"), m.payload);
    }
    if (kind == "error") {
      Error e =
          BadResponse("The upstream stream failed: " + std::string(m.Header(":error-message")));
      e.provider_code = m.Header(":error-code");
      return e;
    }
    if (done) return OkStatus();  // nothing follows metadata
    auto v = Parse(m.payload);
    if (!v || !v->is_object()) return BadResponse("Malformed upstream stream event");
    return OnEvent(m.Header(":event-type"), v->get_object(), out);
  }
};

ConverseStreamDecoder::ConverseStreamDecoder() : st_(std::make_unique<State>()) {}
ConverseStreamDecoder::~ConverseStreamDecoder() = default;

Status ConverseStreamDecoder::Feed(std::string_view bytes, std::vector<StreamEvent>& out) {
  if (st_->error) return *st_->error;
  std::vector<EventStreamMessage> messages;
  Status framed = st_->parser.Feed(bytes, messages);
  for (const auto& m : messages) {
    Status s = st_->OnMessage(m, out);
    if (!s.ok()) return st_->Fail(std::move(s).error());
  }
  if (!framed.ok()) return st_->Fail(std::move(framed).error());
  return OkStatus();
}

Status ConverseStreamDecoder::Finish(std::vector<StreamEvent>& out) {
  if (st_->error) return *st_->error;
  if (st_->done) return OkStatus();
  if (!st_->stopped || !st_->parser.Finish().ok()) {
    Error e = BadResponse("The upstream stream ended before its final event");
    e.code = "stream_cut";
    return st_->Fail(std::move(e));
  }
  st_->done = true;
  StreamEvent ev;
  ev.kind = StreamEvent::Kind::kDone;
  out.push_back(std::move(ev));
  return OkStatus();
}

}  // namespace modelmux::dialects::bedrock
