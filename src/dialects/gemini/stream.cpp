#include "dialects/gemini/stream.hpp"

#include <map>

#include "core/sse.hpp"
#include "dialects/gemini/errors.hpp"
#include "dialects/gemini/response.hpp"
#include "dialects/gemini/wire.hpp"

namespace modelmux::dialects::gemini {
namespace {

using namespace detail;  // NOLINT: internal helpers of this dialect

struct CandidateState {
  bool role_sent = false;
  int tool_count = 0;
  bool finished = false;
};

}  // namespace

struct GenerateContentStreamDecoder::State {
  SseParser parser;
  std::string id;
  std::string model;
  std::optional<Usage> usage;
  std::map<int, CandidateState> candidates;
  bool done = false;
  std::optional<Error> error;

  StreamDelta OnCandidate(const json::object& cand, int position) {
    StreamDelta d;
    d.index = position;
    if (const json::value* index = cand.if_contains("index")) {
      d.index = static_cast<int>(AsInt(*index).value_or(position));
    }
    CandidateState& st = candidates[d.index];
    if (!st.role_sent) {
      d.role = "assistant";
      st.role_sent = true;
    }
    const json::object* content = ObjectOf(cand, "content");
    const json::array* parts = content != nullptr ? ArrayOf(*content, "parts") : nullptr;
    for (size_t i = 0; parts != nullptr && i < parts->size(); ++i) {
      if (!(*parts)[i].is_object()) continue;
      const json::object& part = (*parts)[i].get_object();
      const json::value* thought = part.if_contains("thought");
      const bool is_thought = thought != nullptr && thought->is_bool() && thought->get_bool();
      if (const json::value* text = part.if_contains("text"); text && text->is_string()) {
        (is_thought ? d.reasoning : d.text) += text->get_string();
      } else if (const json::object* call = ObjectOf(part, "functionCall")) {
        std::string name = Str(*call, "name");
        std::string args = ArgsText(*call);
        const int order = st.tool_count++;
        std::string call_id =
            ToolCallId(Str(*call, "id"), name, args, order, Str(part, "thoughtSignature"));
        d.tool_calls.push_back({order, std::move(call_id), std::move(name), std::move(args)});
      }
    }
    d.finish_reason_raw = Str(cand, "finishReason");
    d.finish_reason = ParseFinishReason(d.finish_reason_raw, st.tool_count > 0);
    if (d.finish_reason != FinishReason::kNone) st.finished = true;
    return d;
  }

  Status OnEvent(const SseEvent& ev, std::vector<StreamEvent>& out) {
    if (!ev.has_data) return OkStatus();
    auto v = Parse(ev.data);
    if (!v || !v->is_object()) return BadResponse("Malformed upstream stream event");
    const json::object& o = v->get_object();
    if (o.contains("error")) return DecodeError(200, ev.data);
    if (std::string rid = Str(o, "responseId"); !rid.empty() && id.empty()) id = std::move(rid);
    if (std::string mv = Str(o, "modelVersion"); !mv.empty() && model.empty()) {
      model = std::move(mv);
    }
    if (const json::object* u = ObjectOf(o, "usageMetadata")) usage = UsageFrom(*u);
    const json::array* cands = ArrayOf(o, "candidates");
    if (cands == nullptr || cands->empty()) {
      const json::object* feedback = ObjectOf(o, "promptFeedback");
      std::string reason = feedback != nullptr ? Str(*feedback, "blockReason") : "";
      if (!reason.empty()) return PromptBlocked(reason);
      return OkStatus();  // e.g. a chunk carrying only usage
    }
    StreamEvent event;
    event.id = id;
    event.model = model;
    for (size_t i = 0; i < cands->size(); ++i) {
      if (!(*cands)[i].is_object()) continue;
      event.deltas.push_back(OnCandidate((*cands)[i].get_object(), static_cast<int>(i)));
    }
    if (!event.deltas.empty()) out.push_back(std::move(event));
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

GenerateContentStreamDecoder::GenerateContentStreamDecoder() : st_(std::make_unique<State>()) {}
GenerateContentStreamDecoder::~GenerateContentStreamDecoder() = default;

Status GenerateContentStreamDecoder::Feed(std::string_view bytes, std::vector<StreamEvent>& out) {
  if (st_->error) return *st_->error;
  std::vector<SseEvent> frames;
  if (!st_->parser.Feed(bytes, frames)) {
    st_->error = BadResponse("Upstream stream event too large");
    return *st_->error;
  }
  return st_->OnEvents(frames, out);
}

Status GenerateContentStreamDecoder::Finish(std::vector<StreamEvent>& out) {
  if (st_->error) return *st_->error;
  if (st_->done) return OkStatus();
  std::vector<SseEvent> frames;
  st_->parser.Finish(frames);
  MM_RETURN_IF_ERROR(st_->OnEvents(frames, out));
  bool complete = !st_->candidates.empty();
  for (const auto& [index, cand] : st_->candidates) complete = complete && cand.finished;
  if (!complete) {
    Error e = BadResponse("The upstream stream ended before its final chunk");
    e.code = "stream_cut";
    st_->error = e;
    return e;
  }
  st_->done = true;
  StreamEvent last;
  last.id = st_->id;
  last.model = st_->model;
  if (st_->usage) {
    last.kind = StreamEvent::Kind::kUsage;
    last.usage = st_->usage;
    out.push_back(last);
    last.usage.reset();
  }
  last.kind = StreamEvent::Kind::kDone;
  out.push_back(std::move(last));
  return OkStatus();
}

}  // namespace modelmux::dialects::gemini
