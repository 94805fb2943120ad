#include "sim/anthropic_request.hpp"
#include "sim/files.hpp"
#include "sim/media_report.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>

#include "sim/text_gen.hpp"

namespace modelmux::sim {
namespace json = boost::json;
namespace {

constexpr int64_t kImageTokens = 85;  // as an OpenAI image_url part

Error Bad(std::string message, std::string param = {}) {
  return InvalidRequest(std::move(message), std::move(param));
}

Error Missing(const std::string& field) {
  return Bad(field + ": Field required", field);
}

std::optional<int64_t> AsInt(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return static_cast<int64_t>(v.get_uint64());
  }
  if (v.is_double() && std::floor(v.get_double()) == v.get_double() &&
      std::fabs(v.get_double()) < 1e15) {
    return static_cast<int64_t>(v.get_double());
  }
  return std::nullopt;
}

std::optional<double> AsNumber(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  if (v.is_double()) return v.get_double();
  return std::nullopt;
}

// The text of a tool_result's content: a string, or the text of its text blocks.
std::string ToolResultText(const json::value* content) {
  if (content == nullptr) return {};
  if (content->is_string()) return std::string(content->get_string());
  std::string out;
  if (!content->is_array()) return out;
  for (const json::value& b : content->get_array()) {
    const json::value* text = b.is_object() ? b.get_object().if_contains("text") : nullptr;
    if (text == nullptr || !text->is_string()) continue;
    if (!out.empty()) out.push_back('\n');
    out.append(text->get_string());
  }
  return out;
}

struct ParsedContent {
  SimMessage message;
  bool has_text = false;  // a string, or at least one text block (not only tool results)
};

Result<ParsedContent> ParseContent(const json::value& content, const std::string& where) {
  ParsedContent out;
  SimMessage& m = out.message;
  if (content.is_string()) {
    m.text = std::string(content.get_string());
    out.has_text = true;
    return out;
  }
  if (!content.is_array()) {
    return Bad(where + ": Input should be a valid string or a list of content blocks", where);
  }
  bool first = true;
  auto append = [&](std::string_view text) {
    if (!first) m.text.push_back('\n');
    m.text.append(text);
    first = false;
  };
  size_t i = 0;
  for (const json::value& part : content.get_array()) {
    std::string at = where + "." + std::to_string(i++);
    if (!part.is_object()) return Bad(at + ": Input should be a valid dictionary", at);
    const json::object& p = part.get_object();
    const json::value* type = p.if_contains("type");
    if (type == nullptr || !type->is_string()) return Missing(at + ".type");
    std::string_view t = type->get_string();
    if (t == "text") {
      const json::value* text = p.if_contains("text");
      if (text == nullptr || !text->is_string()) return Missing(at + ".text");
      append(text->get_string());
      out.has_text = true;
    } else if (t == "image" || t == "document") {
      if (!p.contains("source")) return Missing(at + ".source");
      m.extra_tokens += kImageTokens;
      const json::object* src = p.at("source").if_object();
      if (t == "image" && src != nullptr) {
        const json::value* data = src->if_contains("data");
        const json::value* url = src->if_contains("url");
        const json::value* mt = src->if_contains("media_type");
        if (data != nullptr && data->is_string()) {
          m.media.push_back(DescribeMedia(
              MediaKind::kImage, data->get_string(), true,
              mt && mt->is_string() ? std::string_view(mt->get_string()) : std::string_view()));
        } else if (url != nullptr && url->is_string()) {
          m.media.push_back(DescribeMedia(MediaKind::kImage, url->get_string()));
        } else if (const json::value* id = src->if_contains("file_id"); id && id->is_string()) {
          // A file uploaded to this simulator's Files API (sim/files.hpp).
          auto file = DescribeFileReference(MediaKind::kImage, id->get_string(), true);
          if (!file->ok()) return file->error();
          m.media.push_back(std::move(**file));
        }
      }
    } else if (t == "tool_use") {
      const json::value* name = p.if_contains("name");
      if (name == nullptr || !name->is_string()) return Missing(at + ".name");
      m.extra_tokens += CountTokens(name->get_string());
      if (const json::value* input = p.if_contains("input")) {
        m.extra_tokens += CountTokens(json::serialize(*input));
      }
    } else if (t == "tool_result") {
      const json::value* id = p.if_contains("tool_use_id");
      if (id == nullptr || !id->is_string()) return Missing(at + ".tool_use_id");
      append(ToolResultText(p.if_contains("content")));
    }
    // Other block types (thinking, redacted_thinking, ...) add nothing.
  }
  return out;
}

Result<std::string> SystemText(const json::value& system) {
  if (system.is_string()) return std::string(system.get_string());
  if (!system.is_array()) return Bad("system: Input should be a valid string or a list", "system");
  std::string out;
  bool first = true;
  for (const json::value& b : system.get_array()) {
    const json::value* text = b.is_object() ? b.get_object().if_contains("text") : nullptr;
    if (text == nullptr || !text->is_string()) return Missing("system.text");
    if (!first) out.push_back('\n');
    out.append(text->get_string());
    first = false;
  }
  return out;
}

// The tool to call, if any: tools present and tool_choice {type:any} (the first tool), {type:
// tool, name} (that one), or the last user text holding "call_tool" (unless {type:none}).
Result<std::string> ChooseTool(const json::object& o, std::string_view last_user_text) {
  const json::value* tools = o.if_contains("tools");
  if (tools == nullptr || tools->is_null()) return std::string();
  if (!tools->is_array()) return Bad("tools: Input should be a valid list", "tools");
  std::vector<std::string> names;
  size_t i = 0;
  for (const json::value& t : tools->get_array()) {
    std::string where = "tools." + std::to_string(i++) + ".name";
    const json::value* name = t.is_object() ? t.get_object().if_contains("name") : nullptr;
    if (name == nullptr || !name->is_string()) return Missing(where);
    names.emplace_back(name->get_string());
  }
  if (names.empty()) return std::string();
  const json::value* choice = o.if_contains("tool_choice");
  if (choice != nullptr && !choice->is_null()) {
    const json::value* type =
        choice->is_object() ? choice->get_object().if_contains("type") : nullptr;
    if (type == nullptr || !type->is_string()) return Missing("tool_choice.type");
    std::string_view t = type->get_string();
    if (t == "none") return std::string();
    if (t == "any") return names.front();
    if (t == "tool") {
      const json::value* name = choice->get_object().if_contains("name");
      if (name == nullptr || !name->is_string()) return Missing("tool_choice.name");
      std::string wanted(name->get_string());
      if (std::find(names.begin(), names.end(), wanted) == names.end()) {
        return Bad("tool_choice.name: tool '" + wanted + "' is not among the provided tools",
                   "tool_choice.name");
      }
      return wanted;
    }
    if (t != "auto") {
      return Bad("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'",
                 "tool_choice.type");
    }
  }
  if (last_user_text.find("call_tool") != std::string_view::npos) return names.front();
  return std::string();
}

Status ParseMessages(const json::object& o, SimRequest& r) {
  if (const json::value* system = o.if_contains("system"); system && !system->is_null()) {
    MM_TRY(std::string text, SystemText(*system));
    if (!text.empty()) r.messages.push_back(SimMessage{"system", std::move(text), 0, {}});
  }
  const json::value* messages = o.if_contains("messages");
  if (messages == nullptr) return Missing("messages");
  if (!messages->is_array()) return Bad("messages: Input should be a valid list", "messages");
  if (messages->get_array().empty()) {
    return Bad("messages: at least one message is required", "messages");
  }
  size_t i = 0;
  for (const json::value& v : messages->get_array()) {
    std::string where = "messages." + std::to_string(i++);
    if (!v.is_object()) return Bad(where + ": Input should be a valid dictionary", where);
    const json::object& m = v.get_object();
    const json::value* role = m.if_contains("role");
    if (role == nullptr) return Missing(where + ".role");
    if (!role->is_string() || (role->get_string() != "user" && role->get_string() != "assistant")) {
      return Bad(where + ".role: Input should be 'user' or 'assistant'", where + ".role");
    }
    const json::value* content = m.if_contains("content");
    if (content == nullptr) return Missing(where + ".content");
    MM_TRY(ParsedContent parsed, ParseContent(*content, where + ".content"));
    parsed.message.role = std::string(role->get_string());
    if (parsed.message.role == "user" && parsed.has_text) r.last_user_text = parsed.message.text;
    r.messages.push_back(std::move(parsed.message));
  }
  r.prompt_tokens = PromptTokens(r.messages);
  if (const json::value* tools = o.if_contains("tools"); tools && tools->is_array()) {
    r.prompt_tokens += CountTokens(json::serialize(*tools));
  }
  MM_TRY(r.tool_to_call, ChooseTool(o, r.last_user_text));
  return OkStatus();
}

}  // namespace

Result<SimRequest> ParseAnthropicRequest(Endpoint endpoint, std::string_view body) {
  boost::system::error_code ec;
  json::value root = json::parse(body, ec);
  if (ec) return Bad("There was an issue with your request body: it is not valid JSON.");
  if (!root.is_object()) return Bad("The request body must be a JSON object.");
  const json::object& o = root.get_object();
  SimRequest r;
  r.endpoint = endpoint;
  const json::value* model = o.if_contains("model");
  if (model == nullptr || model->is_null()) return Missing("model");
  if (!model->is_string() || model->get_string().empty()) {
    return Bad("model: Input should be a non-empty string", "model");
  }
  r.model = std::string(model->get_string());
  if (endpoint == Endpoint::kMessages) {
    const json::value* max_tokens = o.if_contains("max_tokens");
    if (max_tokens == nullptr || max_tokens->is_null()) return Missing("max_tokens");
    auto n = AsInt(*max_tokens);
    if (!n) return Bad("max_tokens: Input should be a valid integer", "max_tokens");
    if (*n < 1) return Bad("max_tokens: Input should be greater than or equal to 1", "max_tokens");
    r.max_tokens = *n;
    if (const json::value* stream = o.if_contains("stream"); stream && !stream->is_null()) {
      if (!stream->is_bool()) return Bad("stream: Input should be a valid boolean", "stream");
      r.stream = stream->get_bool();
    }
    if (const json::value* t = o.if_contains("temperature"); t && !t->is_null()) {
      auto x = AsNumber(*t);
      if (!x) return Bad("temperature: Input should be a valid number", "temperature");
      if (*x < 0 || *x > 1) {
        return Bad("temperature: Input should be between 0 and 1 (inclusive)", "temperature");
      }
    }
    if (const json::value* s = o.if_contains("stop_sequences"); s && !s->is_null()) {
      bool ok = s->is_array() && std::all_of(s->get_array().begin(), s->get_array().end(),
                                             [](const json::value& x) { return x.is_string(); });
      if (!ok) return Bad("stop_sequences: Input should be a list of strings", "stop_sequences");
    }
  }
  MM_RETURN_IF_ERROR(ParseMessages(o, r));
  return r;
}

}  // namespace modelmux::sim
