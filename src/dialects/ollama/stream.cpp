// OllamaStreamDecoder: Ollama NDJSON bytes -> neutral StreamEvents.
#include "dialects/ollama/stream.hpp"

#include <optional>
#include <string>

#include "dialects/ollama/errors.hpp"
#include "dialects/ollama/wire.hpp"

namespace modelmux::dialects::ollama {
namespace {

using namespace detail;  // NOLINT: internal helpers of this dialect

constexpr size_t kMaxLine = 16 << 20;

Error StreamError(std::string message, std::string code) {
  Error e;
  e.kind = ErrorKind::kUpstreamError;
  e.provider = "ollama";
  e.message = std::move(message);
  e.code = std::move(code);
  return e;
}

}  // namespace

struct OllamaStreamDecoder::State {
  std::string line;  // the incomplete line so far
  std::string id;
  std::string model;
  int64_t created = 0;
  bool role_sent = false;
  bool done = false;
  size_t calls = 0;  // tool calls seen
  std::optional<Error> error;

  StreamEvent Event() const {
    StreamEvent ev;
    ev.id = id;
    ev.model = model;
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

  Status OnLine(std::string_view text, std::vector<StreamEvent>& out) {
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (text.find_first_not_of(" \t") == std::string_view::npos || done) return OkStatus();
    if (auto e = ErrorFromBody(text, 200)) return *e;
    auto v = Parse(text);
    if (!v || !v->is_object()) {
      return StreamError("Malformed upstream stream line", "bad_upstream_response");
    }
    const json::object& o = v->get_object();
    if (id.empty()) {
      const std::string created_at = Str(o, "created_at");
      id = IdFromCreatedAt(created_at);
      created = ParseCreatedAt(created_at);
    }
    if (std::string m = Str(o, "model"); !m.empty()) model = std::move(m);
    StreamDelta d;
    if (const json::object* m = Obj(o, "message")) {
      d.text = Str(*m, "content");
      d.reasoning = Str(*m, "thinking");
      for (ToolCall& c : ToolCallsOf(*m, calls)) {
        d.tool_calls.push_back({static_cast<int>(calls++), std::move(c.id), std::move(c.name),
                                std::move(c.arguments)});
      }
    }
    if (!role_sent || !d.text.empty() || !d.reasoning.empty() || !d.tool_calls.empty()) {
      Emit(std::move(d), out);
    }
    if (!IsTrue(o, "done")) return OkStatus();
    done = true;
    StreamDelta last;
    last.finish_reason_raw = Str(o, "done_reason");
    last.finish_reason = ParseFinishReason(last.finish_reason_raw, calls > 0);
    Emit(std::move(last), out);
    StreamEvent ev = Event();
    if (auto usage = UsageOf(o)) {
      ev.kind = StreamEvent::Kind::kUsage;
      ev.usage = usage;
      out.push_back(ev);
      ev.usage.reset();
    }
    ev.kind = StreamEvent::Kind::kDone;
    out.push_back(std::move(ev));
    return OkStatus();
  }

  Status FeedBytes(std::string_view bytes, std::vector<StreamEvent>& out) {
    while (!bytes.empty()) {
      const size_t nl = bytes.find('\n');
      if (nl == std::string_view::npos) {
        line.append(bytes);
        if (line.size() > kMaxLine) {
          return StreamError("Upstream stream line too large", "bad_upstream_response");
        }
        return OkStatus();
      }
      Status st = OkStatus();
      if (line.empty()) {
        st = OnLine(bytes.substr(0, nl), out);
      } else {
        line.append(bytes.substr(0, nl));
        st = OnLine(line, out);
        line.clear();
      }
      MM_RETURN_IF_ERROR(st);
      bytes.remove_prefix(nl + 1);
    }
    return OkStatus();
  }

  Status Remember(Status s) {
    if (!s.ok()) error = s.error();
    return s;
  }
};

OllamaStreamDecoder::OllamaStreamDecoder() : st_(std::make_unique<State>()) {}
OllamaStreamDecoder::~OllamaStreamDecoder() = default;

Status OllamaStreamDecoder::Feed(std::string_view bytes, std::vector<StreamEvent>& out) {
  if (st_->error) return *st_->error;
  return st_->Remember(st_->FeedBytes(bytes, out));
}

Status OllamaStreamDecoder::Finish(std::vector<StreamEvent>& out) {
  if (st_->error) return *st_->error;
  if (!st_->line.empty()) {
    std::string rest = std::move(st_->line);
    st_->line.clear();
    MM_RETURN_IF_ERROR(st_->Remember(st_->OnLine(rest, out)));
  }
  if (!st_->done) {
    return st_->Remember(
        StreamError("The upstream stream ended before the object with done:true", "stream_cut"));
  }
  return OkStatus();
}

}  // namespace modelmux::dialects::ollama
