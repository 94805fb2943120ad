// MessagesStreamEncoder: neutral StreamEvents -> Anthropic SSE bytes.
#include "core/sse.hpp"
#include "dialects/anthropic/errors.hpp"
#include "dialects/anthropic/response.hpp"
#include "dialects/anthropic/stream.hpp"
#include "dialects/anthropic/wire.hpp"

namespace modelmux::dialects::anthropic {
namespace {

using namespace detail;  // NOLINT: internal helpers of this dialect

void Write(std::string& out, std::string_view type, json::object data) {
  AppendSseEvent(out, json::serialize(data), type);
}

}  // namespace

void MessagesStreamEncoder::Start(const StreamEvent& ev, std::string& out) {
  if (started_) return;
  started_ = true;
  json::object msg{{"id", MessageId(ev.id)},   {"type", "message"},
                   {"role", "assistant"},      {"model", ev.model.empty() ? model_ : ev.model},
                   {"content", json::array{}}, {"stop_reason", nullptr},
                   {"stop_sequence", nullptr}, {"usage", UsageToJson(ev.usage.value_or(Usage{}))}};
  Write(out, "message_start", json::object{{"type", "message_start"}, {"message", std::move(msg)}});
}

void MessagesStreamEncoder::Close(std::string& out) {
  if (open_ == Block::kNone) return;
  Write(out, "content_block_stop",
        json::object{{"type", "content_block_stop"}, {"index", open_index_}});
  open_ = Block::kNone;
  open_tool_ = -1;
}

void MessagesStreamEncoder::Open(Block block, std::string& out,
                                 const StreamDelta::ToolCallFragment* tool) {
  if (open_ == block && (block != Block::kTool || open_tool_ == tool->index)) return;
  Close(out);
  json::object content;
  switch (block) {
    case Block::kText:
      content = {{"type", "text"}, {"text", ""}};
      break;
    case Block::kThinking:
      content = {{"type", "thinking"}, {"thinking", ""}, {"signature", ""}};
      break;
    case Block::kTool:
      content = {
          {"type", "tool_use"}, {"id", tool->id}, {"name", tool->name}, {"input", json::object{}}};
      open_tool_ = tool->index;
      tool_blocks_[tool->index] = next_index_;
      break;
    case Block::kNone:
      return;
  }
  open_ = block;
  open_index_ = next_index_++;
  Write(out, "content_block_start",
        json::object{{"type", "content_block_start"},
                     {"index", open_index_},
                     {"content_block", std::move(content)}});
}

void MessagesStreamEncoder::Delta(int index, std::string_view type, std::string_view key,
                                  std::string_view value, std::string& out) {
  json::object delta{{"type", type}, {key, value}};
  Write(
      out, "content_block_delta",
      json::object{{"type", "content_block_delta"}, {"index", index}, {"delta", std::move(delta)}});
}

std::string MessagesStreamEncoder::Encode(const StreamEvent& ev) {
  std::string out;
  if (finished_) return out;
  if (ev.kind == StreamEvent::Kind::kError) {
    finished_ = true;
    Error e;
    e.kind = ErrorKind::kUpstreamError;
    e.message = ev.error_message;
    AppendSseEvent(out, EncodeError(e), "error");
    return out;
  }
  Start(ev, out);
  if (ev.usage) usage_ = ev.usage;
  if (ev.kind == StreamEvent::Kind::kDone) {
    Close(out);
    return out;
  }
  for (const auto& d : ev.deltas) {
    if (d.index != 0) continue;
    if (!d.reasoning.empty()) {
      Open(Block::kThinking, out);
      Delta(open_index_, "thinking_delta", "thinking", d.reasoning, out);
    }
    if (!d.text.empty()) {
      Open(Block::kText, out);
      Delta(open_index_, "text_delta", "text", d.text, out);
    }
    for (const auto& f : d.tool_calls) {
      int index = open_index_;
      auto seen = tool_blocks_.find(f.index);
      if (seen == tool_blocks_.end() || (open_ == Block::kTool && open_tool_ == f.index)) {
        Open(Block::kTool, out, &f);
        index = open_index_;
      } else {
        index = seen->second;  // a late fragment of a closed block: keep its index
      }
      if (!f.arguments.empty()) Delta(index, "input_json_delta", "partial_json", f.arguments, out);
    }
    if (d.finish_reason != FinishReason::kNone) {
      finish_ = d.finish_reason;
      finish_raw_ = d.finish_reason_raw;
    }
  }
  return out;
}

std::string MessagesStreamEncoder::Finish(const std::optional<Usage>& usage, const Error* error) {
  std::string out;
  if (finished_) return out;
  finished_ = true;
  if (error != nullptr) {
    AppendSseEvent(out, EncodeError(*error), "error");
    return out;
  }
  Start(StreamEvent{}, out);
  Close(out);
  const Usage final_usage = usage ? *usage : usage_.value_or(Usage{});
  json::object delta{{"stop_reason", StopReasonFor(finish_, finish_raw_)},
                     {"stop_sequence", nullptr}};
  Write(out, "message_delta",
        json::object{{"type", "message_delta"},
                     {"delta", std::move(delta)},
                     {"usage", UsageToJson(final_usage)}});
  Write(out, "message_stop", json::object{{"type", "message_stop"}});
  return out;
}

}  // namespace modelmux::dialects::anthropic
