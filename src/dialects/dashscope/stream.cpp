// DashScopeStreamDecoder: DashScope native SSE bytes -> neutral StreamEvents, cumulative or
// incremental.
#include "dialects/dashscope/stream.hpp"

#include <map>
#include <optional>
#include <string>

#include "core/sse.hpp"
#include "dialects/dashscope/errors.hpp"
#include "dialects/dashscope/response.hpp"
#include "dialects/dashscope/wire.hpp"

namespace modelmux::dialects::dashscope {
namespace {

using namespace detail;  // NOLINT: internal helpers of this dialect
using TextMode = DashScopeStreamDecoder::TextMode;

constexpr size_t kMaxRawBody = 1 << 20;

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// One growing value of the answer (text, reasoning, or one tool call's arguments).
struct Track {
  std::string sent;   // what the upstream has said so far, as far as it was emitted
  std::string held;   // a value held back while the stream kind is being decided
  std::string ready;  // to emit with the current event
};

struct ToolTrack {
  std::string id;
  std::string name;
  bool announced = false;
  Track args;
};

struct ChoiceState {
  Track text;
  Track reasoning;
  std::map<int, ToolTrack> tools;  // by tool-call index (std::map: stable addresses)
  bool finished = false;
};

}  // namespace

struct DashScopeStreamDecoder::State {
  enum class Framing { kUnknown, kSse, kJson };
  Framing framing = Framing::kUnknown;
  SseParser parser;
  std::string raw;  // kJson: the body so far
  TextMode mode = TextMode::kAuto;
  Track* pending = nullptr;  // the track holding a value while the kind is undecided
  std::string id;
  std::optional<Usage> usage;
  std::map<int, ChoiceState> choices;
  bool role_sent = false;
  bool done = false;
  std::optional<Error> error;

  // --- the cumulative / incremental decision -------------------------------------------------

  static void Incremental(Track& t, std::string_view now) {
    t.sent += now;
    t.ready += now;
  }
  static void Cumulative(Track& t, std::string_view now) {
    if (StartsWith(now, t.sent)) {
      t.ready += now.substr(t.sent.size());
      t.sent = std::string(now);
    } else if (!StartsWith(t.sent, now)) {  // not a repeat of older text: treat as new
      Incremental(t, now);
    }
  }
  // Settles the held value as `kind`.
  void Settle(TextMode kind) {
    mode = kind;
    if (pending == nullptr) return;
    Track& h = *pending;
    pending = nullptr;
    std::string held = std::move(h.held);
    h.held.clear();
    if (kind == TextMode::kCumulative) {
      Cumulative(h, held);
    } else {
      Incremental(h, held);
    }
  }

  void Take(Track& t, std::string_view now) {
    if (now.empty()) return;
    switch (mode) {
      case TextMode::kIncremental:
        Incremental(t, now);
        return;
      case TextMode::kCumulative:
        Cumulative(t, now);
        return;
      case TextMode::kAuto:
        break;
    }
    if (pending == &t) {
      Settle(StartsWith(now, t.held) ? TextMode::kCumulative : TextMode::kIncremental);
      Take(t, now);
      return;
    }
    if (t.sent.empty()) {  // a first value reads the same either way
      Incremental(t, now);
      return;
    }
    if (pending != nullptr) {  // another field gives the evidence
      Settle(StartsWith(now, t.sent) ? TextMode::kCumulative : TextMode::kIncremental);
      Take(t, now);
      return;
    }
    if (StartsWith(now, t.sent)) {
      t.held = std::string(now);
      pending = &t;
      return;
    }
    Settle(TextMode::kIncremental);
    Incremental(t, now);
  }

  // --- events ------------------------------------------------------------------------------

  StreamEvent Event() const {
    StreamEvent ev;
    ev.id = id;
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

  // Emits what is ready on every choice (values settled by this event may sit on any of them).
  void Flush(std::vector<StreamEvent>& out) {
    for (auto& [index, c] : choices) {
      StreamDelta d;
      d.index = index;
      d.text = std::move(c.text.ready);
      c.text.ready.clear();
      d.reasoning = std::move(c.reasoning.ready);
      c.reasoning.ready.clear();
      for (auto& [ti, tool] : c.tools) {
        const bool announce = !tool.announced && (!tool.id.empty() || !tool.name.empty());
        if (!announce && (!tool.announced || tool.args.ready.empty())) continue;
        StreamDelta::ToolCallFragment f;
        f.index = ti;
        if (announce) {
          f.id = tool.id;
          f.name = tool.name;
          tool.announced = true;
        }
        f.arguments = std::move(tool.args.ready);
        tool.args.ready.clear();
        d.tool_calls.push_back(std::move(f));
      }
      if (!role_sent || !d.text.empty() || !d.reasoning.empty() || !d.tool_calls.empty()) {
        Emit(std::move(d), out);
      }
    }
  }

  void TakeToolCalls(ChoiceState& c, const json::object& message) {
    const json::value* tc = message.if_contains("tool_calls");
    if (tc == nullptr || !tc->is_array()) return;
    int position = 0;
    for (const json::value& call : tc->get_array()) {
      const json::object* co = call.if_object();
      const int pos = position++;
      if (co == nullptr) continue;
      int index = pos;
      if (const json::value* i = co->if_contains("index")) {
        index = static_cast<int>(AsInt(*i).value_or(pos));
      }
      ToolTrack& tool = c.tools[index];
      if (std::string call_id = Str(*co, "id"); !call_id.empty() && tool.id.empty()) {
        tool.id = std::move(call_id);
      }
      if (const json::object* f = Obj(*co, "function")) {
        if (std::string name = Str(*f, "name"); !name.empty() && tool.name.empty()) {
          tool.name = std::move(name);
        }
        Take(tool.args, Str(*f, "arguments"));
      }
    }
  }

  Status OnChunk(std::string_view data, std::vector<StreamEvent>& out, bool is_error_event) {
    if (done) return OkStatus();
    auto v = Parse(data);
    if (!v || !v->is_object()) {
      if (is_error_event) return BadResponse("DashScope stream error event: malformed data");
      return BadResponse("Malformed upstream stream event");
    }
    const json::object& o = v->get_object();
    int status = 0;
    if (const json::value* s = o.if_contains("status_code")) {
      status = static_cast<int>(AsInt(*s).value_or(0));
    }
    if (auto e = ErrorFromBody(data, status)) return *e;
    if (is_error_event) {
      Error e = BadResponse("DashScope sent an error event without a code");
      e.code = "stream_error";
      return e;
    }
    if (std::string rid = Str(o, "request_id"); !rid.empty()) id = std::move(rid);
    if (auto u = UsageOf(o)) usage = u;
    const json::object* output = Obj(o, "output");
    if (output == nullptr) return BadResponse("Upstream stream event without output");

    std::vector<std::pair<int, std::string>> finishes;  // choice index, raw reason
    const json::value* list = output->if_contains("choices");
    if (list != nullptr && list->is_array()) {
      int position = 0;
      for (const json::value& cv : list->get_array()) {
        const json::object* co = cv.if_object();
        const int pos = position++;
        if (co == nullptr) continue;
        int index = pos;
        if (const json::value* i = co->if_contains("index")) {
          index = static_cast<int>(AsInt(*i).value_or(pos));
        }
        ChoiceState& c = choices[index];
        if (c.finished) continue;
        if (const json::object* m = Obj(*co, "message")) {
          Take(c.reasoning, Str(*m, "reasoning_content"));
          Take(c.text, ContentText(m->if_contains("content")));
          TakeToolCalls(c, *m);
        }
        if (std::string raw = RawFinishReason(*co); !raw.empty()) {
          finishes.emplace_back(index, std::move(raw));
        }
      }
    } else if (output->contains("text") || output->contains("finish_reason")) {
      ChoiceState& c = choices[0];
      if (!c.finished) {
        Take(c.text, Str(*output, "text"));
        if (std::string raw = RawFinishReason(*output); !raw.empty()) {
          finishes.emplace_back(0, std::move(raw));
        }
      }
    }
    if (choices.empty()) choices[0];  // so that the role delta has a choice
    bool all_finished = !finishes.empty();
    if (all_finished) {
      for (const auto& [index, raw] : finishes) choices[index].finished = true;
      for (const auto& [index, c] : choices) all_finished = all_finished && c.finished;
    }
    if (all_finished && mode == TextMode::kAuto) Settle(TextMode::kIncremental);
    Flush(out);
    for (const auto& [index, raw] : finishes) {
      StreamDelta last;
      last.index = index;
      last.finish_reason_raw = raw;
      last.finish_reason = ParseFinishReason(raw);
      Emit(std::move(last), out);
    }
    if (all_finished) Finalize(out);
    return OkStatus();
  }

  void Finalize(std::vector<StreamEvent>& out) {
    done = true;
    StreamEvent ev = Event();
    if (usage) {
      ev.kind = StreamEvent::Kind::kUsage;
      ev.usage = usage;
      out.push_back(ev);
      ev.usage.reset();
    }
    ev.kind = StreamEvent::Kind::kDone;
    out.push_back(std::move(ev));
  }

  Status OnFrames(const std::vector<SseEvent>& frames, std::vector<StreamEvent>& out) {
    for (const auto& f : frames) {
      if (!f.has_data) continue;
      MM_RETURN_IF_ERROR(OnChunk(f.data, out, f.event == "error"));
    }
    return OkStatus();
  }

  Status FeedRaw(std::string_view bytes, std::vector<StreamEvent>& out) {
    raw.append(bytes);
    if (raw.size() > kMaxRawBody) return BadResponse("Upstream stream body too large");
    auto v = Parse(raw);
    if (!v || !v->is_object()) return OkStatus();  // incomplete: wait for more bytes
    const std::string body = std::move(raw);
    raw.clear();
    MM_RETURN_IF_ERROR(OnChunk(body, out, false));
    if (!done) {  // a whole answer is the last one whether it says so or not
      Settle(mode == TextMode::kAuto ? TextMode::kIncremental : mode);
      Flush(out);
      for (auto& [index, c] : choices) {
        if (c.finished) continue;
        c.finished = true;
        StreamDelta last;
        last.index = index;
        last.finish_reason = FinishReason::kStop;
        Emit(std::move(last), out);
      }
      Finalize(out);
    }
    return OkStatus();
  }

  Status FeedBytes(std::string_view bytes, std::vector<StreamEvent>& out) {
    if (framing == Framing::kUnknown) {
      const size_t first = bytes.find_first_not_of(" \t\r\n");
      if (first == std::string_view::npos) return OkStatus();  // only whitespace so far
      framing = bytes[first] == '{' ? Framing::kJson : Framing::kSse;
      bytes.remove_prefix(first);
    }
    if (framing == Framing::kJson) return FeedRaw(bytes, out);
    std::vector<SseEvent> frames;
    if (!parser.Feed(bytes, frames)) return BadResponse("Upstream stream event too large");
    return OnFrames(frames, out);
  }

  Status Remember(Status s) {
    if (!s.ok()) error = s.error();
    return s;
  }
};

DashScopeStreamDecoder::DashScopeStreamDecoder(TextMode mode) : st_(std::make_unique<State>()) {
  st_->mode = mode;
}
DashScopeStreamDecoder::~DashScopeStreamDecoder() = default;

DashScopeStreamDecoder::TextMode DashScopeStreamDecoder::mode() const {
  return st_->mode;
}

Status DashScopeStreamDecoder::Feed(std::string_view bytes, std::vector<StreamEvent>& out) {
  if (st_->error) return *st_->error;
  return st_->Remember(st_->FeedBytes(bytes, out));
}

Status DashScopeStreamDecoder::Finish(std::vector<StreamEvent>& out) {
  if (st_->error) return *st_->error;
  if (st_->framing == State::Framing::kSse) {
    std::vector<SseEvent> frames;
    st_->parser.Finish(frames);
    MM_RETURN_IF_ERROR(st_->Remember(st_->OnFrames(frames, out)));
  } else if (st_->framing == State::Framing::kJson && !st_->raw.empty()) {
    return st_->Remember(BadResponse("Malformed upstream stream body"));
  }
  if (!st_->done) {
    Error e = BadResponse("The upstream stream ended before a finish_reason");
    e.code = "stream_cut";
    return st_->Remember(e);
  }
  return OkStatus();
}

}  // namespace modelmux::dialects::dashscope
