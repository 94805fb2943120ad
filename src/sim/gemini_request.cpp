#include "sim/gemini_request.hpp"
#include "sim/files.hpp"
#include "sim/media_report.hpp"

#include <boost/json.hpp>
#include <cmath>

#include "sim/text_gen.hpp"

namespace modelmux::sim {
namespace json = boost::json;
namespace {

constexpr int64_t kMediaTokens = 85;  // as an OpenAI image_url part

Error Bad(std::string message, std::string param = {}) {
  return InvalidRequest(std::move(message), std::move(param));
}

// A member under its snake_case or camelCase name (Gemini accepts both).
const json::value* Member(const json::object& o, std::string_view snake, std::string_view camel) {
  const json::value* v = o.if_contains(snake);
  return v != nullptr ? v : o.if_contains(camel);
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

struct ParsedContent {
  SimMessage message;
  bool has_text = false;
  bool only_responses = true;  // every part is a functionResponse
};

Result<ParsedContent> ParseParts(const json::value* parts, const std::string& where) {
  if (parts == nullptr || !parts->is_array() || parts->get_array().empty()) {
    return Bad("* GenerateContentRequest." + where + ".parts: contents.parts must not be empty.",
               where + ".parts");
  }
  ParsedContent out;
  SimMessage& m = out.message;
  auto append = [&m](std::string_view text) {
    if (!m.text.empty()) m.text.push_back('\n');
    m.text.append(text);
  };
  for (const json::value& part : parts->get_array()) {
    if (!part.is_object()) return Bad("Invalid JSON payload: a part must be an object.", where);
    const json::object& p = part.get_object();
    const bool response = Member(p, "function_response", "functionResponse") != nullptr;
    out.only_responses = out.only_responses && response;
    if (const json::value* text = p.if_contains("text"); text && text->is_string()) {
      if (const json::value* t = p.if_contains("thought"); t && t->is_bool() && t->get_bool()) {
        continue;  // thoughts sent back add nothing
      }
      append(text->get_string());
      out.has_text = true;
    } else if (const json::value* inline_data = Member(p, "inline_data", "inlineData")) {
      m.extra_tokens += kMediaTokens;
      const json::object* d = inline_data->if_object();
      const json::value* data = d ? d->if_contains("data") : nullptr;
      const json::value* mt = d ? Member(*d, "mime_type", "mimeType") : nullptr;
      const std::string_view mime =
          mt && mt->is_string() ? std::string_view(mt->get_string()) : std::string_view();
      if (data != nullptr && data->is_string()) {
        m.media.push_back(
            DescribeMedia(mime.starts_with("video/") ? MediaKind::kVideo : MediaKind::kImage,
                          data->get_string(), true, mime));
      }
    } else if (const json::value* file_data = Member(p, "file_data", "fileData")) {
      m.extra_tokens += kMediaTokens;
      const json::object* d = file_data->if_object();
      const json::value* uri = d ? Member(*d, "file_uri", "fileUri") : nullptr;
      if (uri != nullptr && uri->is_string()) {
        // A file uploaded to this simulator (sim/files.hpp) is decoded like inline data.
        if (auto file = DescribeFileReference(MediaKind::kImage, uri->get_string(), false)) {
          if (!file->ok()) return file->error();
          m.media.push_back(std::move(**file));
        } else {
          m.media.push_back(DescribeMedia(MediaKind::kImage, uri->get_string()));
        }
      }
    } else if (const json::value* call = Member(p, "function_call", "functionCall")) {
      const json::value* name =
          call->is_object() ? call->get_object().if_contains("name") : nullptr;
      if (name == nullptr || !name->is_string()) {
        return Bad("* GenerateContentRequest." + where + ".function_call.name: Name is required.");
      }
      m.extra_tokens += CountTokens(name->get_string());
      if (const json::value* args = call->get_object().if_contains("args")) {
        m.extra_tokens += CountTokens(json::serialize(*args));
      }
    } else if (response) {
      const json::value* r = Member(p, "function_response", "functionResponse");
      const json::value* body = r->is_object() ? r->get_object().if_contains("response") : nullptr;
      if (body != nullptr) append(json::serialize(*body));
    }
  }
  return out;
}

Result<std::string> SystemText(const json::value& system) {
  const json::value* parts =
      system.is_object() ? system.get_object().if_contains("parts") : nullptr;
  if (parts == nullptr || !parts->is_array()) {
    return Bad("* GenerateContentRequest.system_instruction.parts: must be a list.");
  }
  std::string out;
  for (const json::value& p : parts->get_array()) {
    const json::value* text = p.is_object() ? p.get_object().if_contains("text") : nullptr;
    if (text == nullptr || !text->is_string()) continue;
    if (!out.empty()) out.push_back('\n');
    out.append(text->get_string());
  }
  return out;
}

Result<std::string> ChooseTool(const json::object& o, std::string_view last_user_text) {
  std::vector<std::string> names;
  if (const json::value* tools = o.if_contains("tools"); tools && tools->is_array()) {
    for (const json::value& t : tools->get_array()) {
      const json::value* decls =
          t.is_object() ? Member(t.get_object(), "function_declarations", "functionDeclarations")
                        : nullptr;
      if (decls == nullptr || !decls->is_array()) continue;
      for (const json::value& d : decls->get_array()) {
        const json::value* name = d.is_object() ? d.get_object().if_contains("name") : nullptr;
        if (name == nullptr || !name->is_string() || name->get_string().empty()) {
          return Bad(
              "* GenerateContentRequest.tools[0].function_declarations[0].name: Name is "
              "required.");
        }
        names.emplace_back(name->get_string());
      }
    }
  }
  if (names.empty()) return std::string();
  std::string mode = "AUTO";
  std::string allowed;
  const json::value* config = Member(o, "tool_config", "toolConfig");
  const json::value* fcc =
      config != nullptr && config->is_object()
          ? Member(config->get_object(), "function_calling_config", "functionCallingConfig")
          : nullptr;
  if (fcc != nullptr && fcc->is_object()) {
    if (const json::value* m = fcc->get_object().if_contains("mode"); m && m->is_string()) {
      mode = std::string(m->get_string());
    }
    const json::value* names_v =
        Member(fcc->get_object(), "allowed_function_names", "allowedFunctionNames");
    if (names_v != nullptr && names_v->is_array() && !names_v->get_array().empty() &&
        names_v->get_array()[0].is_string()) {
      allowed = std::string(names_v->get_array()[0].get_string());
    }
  }
  if (mode == "NONE") return std::string();
  if (mode == "ANY") return allowed.empty() ? names.front() : allowed;
  if (mode != "AUTO" && mode != "MODE_UNSPECIFIED" && mode != "VALIDATED") {
    return Bad("Invalid value at 'tool_config.function_calling_config.mode' (" + mode + ")");
  }
  if (last_user_text.find("call_tool") != std::string_view::npos) return names.front();
  return std::string();
}

}  // namespace

GeminiRoute MatchGeminiRoute(std::string_view path) {
  GeminiRoute r;
  if (path.starts_with("/gemini/")) path.remove_prefix(7);
  const bool beta = path.starts_with("/v1beta/");
  const bool stable =
      path.starts_with("/v1/models/") &&
      (path.ends_with(":generateContent") || path.ends_with(":streamGenerateContent") ||
       path.ends_with(":batchEmbedContents"));
  if (!beta && !stable) return r;
  r.method = GeminiMethod::kOther;
  std::string_view rest = path.substr(beta ? 8 : 4);
  if (!rest.starts_with("models/") && !rest.starts_with("tunedModels/")) return r;
  const size_t colon = rest.rfind(':');
  if (colon == std::string_view::npos) return r;
  std::string_view name = rest.substr(rest.find('/') + 1, colon - rest.find('/') - 1);
  std::string_view method = rest.substr(colon + 1);
  if (name.empty()) return r;
  r.model = std::string(name);
  if (method == "generateContent") r.method = GeminiMethod::kGenerate;
  if (method == "streamGenerateContent") r.method = GeminiMethod::kStreamGenerate;
  if (method == "batchEmbedContents") r.method = GeminiMethod::kBatchEmbed;
  return r;
}

Result<SimRequest> ParseGeminiRequest(std::string_view model, bool stream, std::string_view body) {
  boost::system::error_code ec;
  json::value root = json::parse(body, ec);
  if (ec) return Bad("Invalid JSON payload received. Unexpected token.");
  if (!root.is_object()) return Bad("Invalid JSON payload received. Expected an object.");
  const json::object& o = root.get_object();
  SimRequest r;
  r.endpoint = Endpoint::kChat;
  r.model = std::string(model);
  r.stream = stream;
  if (const json::value* system = Member(o, "system_instruction", "systemInstruction");
      system != nullptr && !system->is_null()) {
    MM_TRY(std::string text, SystemText(*system));
    if (!text.empty()) r.messages.push_back(SimMessage{"system", std::move(text), 0, {}});
  }
  const json::value* contents = o.if_contains("contents");
  if (contents == nullptr || !contents->is_array() || contents->get_array().empty()) {
    return Bad("* GenerateContentRequest.contents: contents is not specified", "contents");
  }
  size_t i = 0;
  for (const json::value& c : contents->get_array()) {
    std::string where = "contents[" + std::to_string(i++) + "]";
    if (!c.is_object()) return Bad("Invalid JSON payload: " + where + " must be an object.");
    const json::object& content = c.get_object();
    std::string role = "user";
    if (const json::value* v = content.if_contains("role"); v && v->is_string()) {
      role = std::string(v->get_string());
    }
    if (role != "user" && role != "model") {
      return Bad("Please use a valid role: user, model.", where + ".role");
    }
    MM_TRY(ParsedContent parsed, ParseParts(content.if_contains("parts"), where));
    if (role == "model") {
      parsed.message.role = "assistant";
    } else {
      parsed.message.role = parsed.only_responses ? "tool" : "user";
      if (parsed.has_text) r.last_user_text = parsed.message.text;
    }
    r.messages.push_back(std::move(parsed.message));
  }
  const json::value* config = Member(o, "generation_config", "generationConfig");
  if (config != nullptr && config->is_object()) {
    const json::value* max = Member(config->get_object(), "max_output_tokens", "maxOutputTokens");
    if (max != nullptr && !max->is_null()) {
      auto n = AsInt(*max);
      if (!n || *n < 1) {
        return Bad(
            "* GenerateContentRequest.generation_config.max_output_tokens: must be a "
            "positive integer.");
      }
      r.max_tokens = *n;
    }
  }
  r.prompt_tokens = PromptTokens(r.messages);
  if (const json::value* tools = o.if_contains("tools"); tools && tools->is_array()) {
    r.prompt_tokens += CountTokens(json::serialize(*tools));
  }
  MM_TRY(r.tool_to_call, ChooseTool(o, r.last_user_text));
  return r;
}

}  // namespace modelmux::sim
