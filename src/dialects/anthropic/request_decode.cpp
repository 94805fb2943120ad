// DecodeMessagesRequest: a caller's Anthropic Messages body -> neutral ChatRequest.
#include <string_view>

#include "dialects/anthropic/request.hpp"
#include "dialects/anthropic/wire.hpp"

namespace modelmux::dialects::anthropic {
namespace {

using namespace detail;  // NOLINT: internal helpers of this dialect

// Anthropic words validation errors as "<path>: <what>"; param is the path.
Error Invalid(const std::string& path, std::string_view what) {
  return InvalidRequest(path + ": " + std::string(what), path);
}

std::string Path(const std::string& base, size_t i) {
  return base + "." + std::to_string(i);
}

bool IsImageType(std::string_view t) {
  return t == "image/jpeg" || t == "image/png" || t == "image/gif" || t == "image/webp";
}

Result<ContentPart> DecodeText(const json::object& block, const std::string& path) {
  const json::value* text = block.if_contains("text");
  if (text == nullptr || !text->is_string()) return Invalid(path + ".text", "Field required");
  return ContentPart{PartType::kText, std::string(text->get_string()), "", "", ""};
}

Result<ContentPart> DecodeImage(const json::object& block, const std::string& path) {
  const json::value* src = block.if_contains("source");
  if (src == nullptr || !src->is_object()) return Invalid(path + ".source", "Field required");
  const json::object& s = src->get_object();
  const std::string type = Str(s, "type");
  ContentPart part;
  part.type = PartType::kImage;
  if (type == "base64") {
    const std::string media = Str(s, "media_type");
    if (!IsImageType(media)) {
      return Invalid(path + ".source.media_type",
                     "Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'");
    }
    const json::value* data = s.if_contains("data");
    if (data == nullptr || !data->is_string()) {
      return Invalid(path + ".source.data", "Field required");
    }
    part.mime_type = media;
    part.url = "data:" + media + ";base64," + std::string(data->get_string());
    return part;
  }
  if (type == "url") {
    const std::string url = Str(s, "url");
    if (url.empty()) return Invalid(path + ".source.url", "Field required");
    part.url = url;
    return part;
  }
  return Invalid(path + ".source.type", "Input should be 'base64' or 'url'");
}

// A text or image block (the blocks of user turns, system and tool results).
Result<ContentPart> DecodePart(const json::value& v, const std::string& path, bool images) {
  if (!v.is_object()) return Invalid(path, "Input should be an object");
  const json::object& block = v.get_object();
  const std::string type = Str(block, "type");
  if (type == "text") return DecodeText(block, path);
  if (type == "image" && images) return DecodeImage(block, path);
  return Invalid(path + ".type", "Unsupported content block type '" + type + "'");
}

Result<Message> DecodeToolResult(const json::object& block, const std::string& path) {
  Message m;
  m.role = Role::kTool;
  const json::value* id = block.if_contains("tool_use_id");
  if (id == nullptr || !id->is_string()) return Invalid(path + ".tool_use_id", "Field required");
  m.tool_call_id = std::string(id->get_string());
  const json::value* content = block.if_contains("content");
  if (content == nullptr) {
    m.content_is_string = false;
  } else if (content->is_string()) {
    m.content.push_back(
        ContentPart{PartType::kText, std::string(content->get_string()), "", "", ""});
  } else if (content->is_array()) {
    m.content_is_string = false;
    const json::array& parts = content->get_array();
    for (size_t i = 0; i < parts.size(); ++i) {
      MM_TRY(ContentPart part, DecodePart(parts[i], Path(path + ".content", i), true));
      m.content.push_back(std::move(part));
    }
  } else {
    return Invalid(path + ".content", "Input should be a valid string or list");
  }
  return m;
}

Result<ToolCall> DecodeToolUse(const json::object& block, const std::string& path) {
  ToolCall call;
  call.id = Str(block, "id");
  call.name = Str(block, "name");
  if (call.id.empty()) return Invalid(path + ".id", "Field required");
  if (call.name.empty()) return Invalid(path + ".name", "Field required");
  const json::value* input = block.if_contains("input");
  if (input == nullptr || !input->is_object()) {
    return Invalid(path + ".input", "Input should be a valid dictionary");
  }
  call.arguments = json::serialize(*input);
  return call;
}

// Appends the neutral messages of one wire message (a user turn may become several).
Status DecodeMessage(const json::value& v, size_t index, std::vector<Message>& out) {
  const std::string path = Path("messages", index);
  if (!v.is_object()) return Invalid(path, "Input should be an object");
  const json::object& o = v.get_object();
  const std::string role = Str(o, "role");
  if (role != "user" && role != "assistant") {
    return Invalid(path + ".role", "Input should be 'user' or 'assistant'");
  }
  const bool user = role == "user";
  const json::value* content = o.if_contains("content");
  if (content == nullptr) return Invalid(path + ".content", "Field required");
  Message cur;
  cur.role = user ? Role::kUser : Role::kAssistant;
  if (content->is_string()) {
    cur.content.push_back(
        ContentPart{PartType::kText, std::string(content->get_string()), "", "", ""});
    out.push_back(std::move(cur));
    return OkStatus();
  }
  if (!content->is_array()) {
    return Invalid(path + ".content", "Input should be a valid string or list");
  }
  const json::array& blocks = content->get_array();
  if (blocks.empty()) return Invalid(path + ".content", "List should have at least 1 item");
  cur.content_is_string = false;
  bool pending = false;  // `cur` holds something to flush
  for (size_t j = 0; j < blocks.size(); ++j) {
    const std::string bpath = Path(path + ".content", j);
    if (!blocks[j].is_object()) return Invalid(bpath, "Input should be an object");
    const json::object& block = blocks[j].get_object();
    const std::string type = Str(block, "type");
    if (user && type == "tool_result") {
      MM_TRY(Message result, DecodeToolResult(block, bpath));
      if (pending) out.push_back(cur);
      cur.content.clear();
      pending = false;
      out.push_back(std::move(result));
    } else if (!user && type == "tool_use") {
      MM_TRY(ToolCall call, DecodeToolUse(block, bpath));
      cur.tool_calls.push_back(std::move(call));
      pending = true;
    } else if (!user && type == "thinking") {
      cur.reasoning += Str(block, "thinking");
      pending = true;
    } else if (!user && type == "redacted_thinking") {
      pending = true;  // opaque: not representable in the neutral form
    } else {
      MM_TRY(ContentPart part, DecodePart(blocks[j], bpath, user));
      cur.content.push_back(std::move(part));
      pending = true;
    }
  }
  if (pending) out.push_back(std::move(cur));
  return OkStatus();
}

Status DecodeSystem(const json::value& v, std::vector<Message>& out) {
  Message m;
  m.role = Role::kSystem;
  if (v.is_string()) {
    m.content.push_back(ContentPart{PartType::kText, std::string(v.get_string()), "", "", ""});
  } else if (v.is_array()) {
    m.content_is_string = false;
    const json::array& blocks = v.get_array();
    for (size_t i = 0; i < blocks.size(); ++i) {
      MM_TRY(ContentPart part, DecodePart(blocks[i], Path("system", i), false));
      m.content.push_back(std::move(part));
    }
  } else {
    return Invalid("system", "Input should be a valid string or list");
  }
  out.push_back(std::move(m));
  return OkStatus();
}

Result<std::string> DecodeTools(const json::value& v) {
  if (!v.is_array()) return Invalid("tools", "Input should be a valid list");
  json::array out;
  const json::array& tools = v.get_array();
  for (size_t i = 0; i < tools.size(); ++i) {
    const std::string path = Path("tools", i);
    if (!tools[i].is_object()) return Invalid(path, "Input should be an object");
    const json::object& t = tools[i].get_object();
    const std::string type = Str(t, "type");
    if (!type.empty() && type != "custom") {  // a server tool (web_search_..., bash_...)
      out.push_back(t);
      continue;
    }
    const std::string name = Str(t, "name");
    if (name.empty()) return Invalid(path + ".name", "Field required");
    const json::value* schema = t.if_contains("input_schema");
    if (schema == nullptr || !schema->is_object()) {
      return Invalid(path + ".input_schema", "Field required");
    }
    json::object fn{{"name", name}};
    if (const json::value* d = t.if_contains("description"); d && d->is_string()) {
      fn["description"] = *d;
    }
    fn["parameters"] = *schema;
    out.push_back(json::object{{"type", "function"}, {"function", std::move(fn)}});
  }
  return json::serialize(out);
}

Status DecodeToolChoice(const json::value& v, ChatRequest& req, json::object& extra) {
  if (!v.is_object()) return Invalid("tool_choice", "Input should be an object");
  const json::object& o = v.get_object();
  const std::string type = Str(o, "type");
  if (type == "auto") {
    req.tool_choice = "\"auto\"";
  } else if (type == "any") {
    req.tool_choice = "\"required\"";
  } else if (type == "none") {
    req.tool_choice = "\"none\"";
  } else if (type == "tool") {
    const std::string name = Str(o, "name");
    if (name.empty()) return Invalid("tool_choice.name", "Field required");
    req.tool_choice = json::serialize(
        json::object{{"type", "function"}, {"function", json::object{{"name", name}}}});
  } else {
    return Invalid("tool_choice.type", "Input should be 'auto', 'any', 'tool' or 'none'");
  }
  const json::value* dp = o.if_contains("disable_parallel_tool_use");
  if (dp != nullptr && dp->is_bool() && dp->get_bool()) extra["parallel_tool_calls"] = false;
  return OkStatus();
}

Result<double> UnitNumber(const json::value& v, const std::string& param) {
  auto n = AsNumber(v);
  if (!n) return Invalid(param, "Input should be a valid number");
  if (*n < 0.0 || *n > 1.0) return Invalid(param, "Input should be between 0 and 1");
  return *n;
}

Result<ChatRequest> DecodeParsed(const json::object& o);

Status CheckParsed(const std::optional<json::value>& parsed) {
  if (!parsed || !parsed->is_object()) {
    return InvalidRequest("The request body is not valid JSON.", "", "invalid_json");
  }
  return OkStatus();
}

}  // namespace

Result<ChatRequest> DecodeMessagesRequest(std::string_view body) {
  auto parsed = Parse(body);
  MM_RETURN_IF_ERROR(CheckParsed(parsed));
  return DecodeParsed(parsed->get_object());
}

Result<ChatRequest> DecodeMessagesRequestReleasing(std::string& body) {
  auto parsed = Parse(body);
  MM_RETURN_IF_ERROR(CheckParsed(parsed));
  std::string().swap(body);
  return DecodeParsed(parsed->get_object());
}

namespace {

Result<ChatRequest> DecodeParsed(const json::object& o) {
  ChatRequest req;
  json::object extra;

  const json::value* model = o.if_contains("model");
  if (model == nullptr || !model->is_string() || model->get_string().empty()) {
    return Invalid("model", "Field required");
  }
  req.model = std::string(model->get_string());
  const json::value* max_tokens = o.if_contains("max_tokens");
  if (max_tokens == nullptr) return Invalid("max_tokens", "Field required");
  auto mt = AsInt(*max_tokens);
  if (!mt) return Invalid("max_tokens", "Input should be a valid integer");
  if (*mt < 1) return Invalid("max_tokens", "Input should be greater than or equal to 1");
  req.max_tokens = *mt;

  if (const json::value* system = o.if_contains("system")) {
    MM_RETURN_IF_ERROR(DecodeSystem(*system, req.messages));
  }
  const json::value* messages = o.if_contains("messages");
  if (messages == nullptr) return Invalid("messages", "Field required");
  if (!messages->is_array()) return Invalid("messages", "Input should be a valid list");
  if (messages->get_array().empty()) {
    return Invalid("messages", "at least one message is required");
  }
  for (size_t i = 0; i < messages->get_array().size(); ++i) {
    MM_RETURN_IF_ERROR(DecodeMessage(messages->get_array()[i], i, req.messages));
  }

  for (const auto& [key, v] : o) {
    if (key == "model" || key == "max_tokens" || key == "system" || key == "messages") continue;
    if (key == "temperature") {
      MM_TRY(req.temperature, UnitNumber(v, "temperature"));
    } else if (key == "top_p") {
      MM_TRY(req.top_p, UnitNumber(v, "top_p"));
    } else if (key == "top_k") {
      auto k = AsInt(v);
      if (!k || *k < 0) return Invalid("top_k", "Input should be a non-negative integer");
      extra["top_k"] = *k;
    } else if (key == "stop_sequences") {
      if (!v.is_array()) return Invalid("stop_sequences", "Input should be a valid list");
      for (size_t i = 0; i < v.get_array().size(); ++i) {
        const json::value& s = v.get_array()[i];
        if (!s.is_string()) return Invalid(Path("stop_sequences", i), "Input should be a string");
        req.stop.emplace_back(s.get_string());
      }
    } else if (key == "stream") {
      if (!v.is_bool()) return Invalid("stream", "Input should be a valid boolean");
      req.stream = v.get_bool();
      req.include_usage = req.stream;  // Anthropic streams always carry usage
    } else if (key == "tools") {
      MM_TRY(req.tools, DecodeTools(v));
    } else if (key == "tool_choice") {
      MM_RETURN_IF_ERROR(DecodeToolChoice(v, req, extra));
    } else if (key == "metadata") {
      if (!v.is_object()) return Invalid("metadata", "Input should be an object");
      req.user = Str(v.get_object(), "user_id");
    } else {
      extra[key] = v;  // thinking, service_tier, ... (passed on to an Anthropic upstream)
    }
  }
  if (!extra.empty()) req.extra = json::serialize(extra);
  return req;
}

}  // namespace

}  // namespace modelmux::dialects::anthropic
