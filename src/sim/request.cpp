#include "sim/request.hpp"
#include "sim/media_report.hpp"

#include <algorithm>
#include <boost/json.hpp>
#include <cctype>
#include <cmath>
#include <cstdio>

#include "sim/text_gen.hpp"

namespace modelmux::sim {
namespace json = boost::json;
namespace {

constexpr int64_t kImageTokens = 85;
constexpr int64_t kAudioTokens = 50;

Error Bad(std::string message, std::string param = {}, std::string code = {}) {
  return InvalidRequest(std::move(message), std::move(param), std::move(code));
}

Error Missing(const std::string& param) {
  return Bad("Missing required parameter: '" + param + "'.", param, "missing_required_parameter");
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

// Reads an optional integer field >= min; absent or null gives nullopt.
Result<std::optional<int64_t>> IntField(const json::object& o, std::string_view key, int64_t min) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::optional<int64_t>{};
  std::string name(key);
  auto n = AsInt(*v);
  if (!n) return Bad("Invalid type for '" + name + "': expected an integer.", name, "invalid_type");
  if (*n < min) {
    return Bad("Invalid '" + name + "': integer below minimum value. Expected a value >= " +
                   std::to_string(min) + ", but got " + std::to_string(*n) + " instead.",
               name, "integer_below_min_value");
  }
  return std::optional<int64_t>(*n);
}

bool BoolField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_bool() && v->get_bool();
}

Result<SimMessage> ParseMessage(const json::value& v, size_t index) {
  std::string where = "messages[" + std::to_string(index) + "]";
  if (!v.is_object()) {
    return Bad("Invalid type for '" + where + "': expected an object.", where, "invalid_type");
  }
  const json::object& o = v.get_object();
  SimMessage m;
  const json::value* role = o.if_contains("role");
  if (role == nullptr) return Missing(where + ".role");
  if (!role->is_string()) {
    return Bad("Invalid type for '" + where + ".role': expected a string.", where + ".role",
               "invalid_type");
  }
  m.role = std::string(role->get_string());
  static constexpr std::string_view kRoles[] = {"system",    "developer", "user",
                                                "assistant", "tool",      "function"};
  if (std::find(std::begin(kRoles), std::end(kRoles), m.role) == std::end(kRoles)) {
    return Bad("Invalid value: '" + m.role +
                   "'. Supported values are: 'system', 'assistant', "
                   "'user', 'tool', 'function' and 'developer'.",
               where + ".role", "invalid_value");
  }
  if (const json::value* content = o.if_contains("content")) {
    if (content->is_string()) {
      m.text = std::string(content->get_string());
    } else if (content->is_array()) {
      bool first = true;
      for (const json::value& part : content->get_array()) {
        if (!part.is_object()) continue;
        const json::object& p = part.get_object();
        const json::value* type = p.if_contains("type");
        std::string_view t =
            type != nullptr && type->is_string() ? std::string_view(type->get_string()) : "";
        if (t == "text") {
          const json::value* text = p.if_contains("text");
          if (text == nullptr || !text->is_string()) continue;
          if (!first) m.text.push_back('\n');
          m.text.append(text->get_string());
          first = false;
        } else if (t == "image_url" || t == "video_url") {
          m.extra_tokens += kImageTokens;
          const json::value* inner = p.if_contains(t);
          const json::value* url =
              inner && inner->is_object() ? inner->get_object().if_contains("url") : nullptr;
          if (url != nullptr && url->is_string()) {
            m.media.push_back(DescribeMedia(
                t == "image_url" ? MediaKind::kImage : MediaKind::kVideo, url->get_string()));
          }
        } else if (t == "input_audio") {
          m.extra_tokens += kAudioTokens;
        }
      }
    } else if (!content->is_null()) {
      return Bad("Invalid type for '" + where + ".content': expected a string or an array.",
                 where + ".content", "invalid_type");
    }
  }
  if (const json::value* calls = o.if_contains("tool_calls"); calls && calls->is_array()) {
    for (const json::value& call : calls->get_array()) {
      if (!call.is_object()) continue;
      const json::value* fn = call.get_object().if_contains("function");
      if (fn == nullptr || !fn->is_object()) continue;
      for (std::string_view key : {"name", "arguments"}) {
        const json::value* s = fn->get_object().if_contains(key);
        if (s != nullptr && s->is_string()) m.extra_tokens += CountTokens(s->get_string());
      }
    }
  }
  return m;
}

// Chooses the tool to call, if any (see SimRequest::tool_to_call).
Result<std::string> ChooseTool(const json::object& o, std::string_view last_user_text) {
  const json::value* tools = o.if_contains("tools");
  if (tools == nullptr || !tools->is_array() || tools->get_array().empty()) return std::string();
  std::vector<std::string> names;
  size_t i = 0;
  for (const json::value& t : tools->get_array()) {
    std::string where = "tools[" + std::to_string(i++) + "].function.name";
    const json::value* fn = t.is_object() ? t.get_object().if_contains("function") : nullptr;
    const json::value* name =
        fn != nullptr && fn->is_object() ? fn->get_object().if_contains("name") : nullptr;
    if (name == nullptr || !name->is_string()) return Missing(where);
    names.emplace_back(name->get_string());
  }
  const json::value* choice = o.if_contains("tool_choice");
  if (choice != nullptr && choice->is_string()) {
    if (choice->get_string() == "none") return std::string();
    if (choice->get_string() == "required") return names.front();
  } else if (choice != nullptr && choice->is_object()) {
    const json::value* fn = choice->get_object().if_contains("function");
    const json::value* name =
        fn != nullptr && fn->is_object() ? fn->get_object().if_contains("name") : nullptr;
    if (name == nullptr || !name->is_string()) return Missing("tool_choice.function.name");
    std::string wanted(name->get_string());
    if (std::find(names.begin(), names.end(), wanted) == names.end()) {
      return Bad("Invalid value for 'tool_choice': no function named '" + wanted +
                     "' was specified in the 'tools' parameter.",
                 "tool_choice", "invalid_value");
    }
    return wanted;
  }
  if (last_user_text.find("call_tool") != std::string_view::npos) return names.front();
  return std::string();
}

Status ParseChat(const json::object& o, SimRequest& r) {
  const json::value* messages = o.if_contains("messages");
  if (messages == nullptr) return Missing("messages");
  if (!messages->is_array()) {
    return Bad("Invalid type for 'messages': expected an array.", "messages", "invalid_type");
  }
  if (messages->get_array().empty()) {
    return Bad(
        "Invalid 'messages': empty array. Expected an array with minimum length 1, but got "
        "an empty array instead.",
        "messages", "empty_array");
  }
  size_t i = 0;
  for (const json::value& m : messages->get_array()) {
    MM_TRY(SimMessage msg, ParseMessage(m, i++));
    if (msg.role == "user") r.last_user_text = msg.text;
    r.messages.push_back(std::move(msg));
  }
  r.prompt_tokens = PromptTokens(r.messages);
  if (const json::value* tools = o.if_contains("tools"); tools && tools->is_array()) {
    r.prompt_tokens += CountTokens(json::serialize(*tools));
  }
  MM_TRY(r.tool_to_call, ChooseTool(o, r.last_user_text));
  return OkStatus();
}

Status ParseLegacy(const json::object& o, SimRequest& r) {
  const json::value* prompt = o.if_contains("prompt");
  if (prompt == nullptr) return Missing("prompt");
  SimMessage m{"user", "", 0, {}};
  if (prompt->is_string()) {
    m.text = std::string(prompt->get_string());
    r.prompt_tokens = CountTokens(m.text);
  } else if (prompt->is_array()) {
    for (const json::value& p : prompt->get_array()) {
      if (p.is_string()) {
        if (!m.text.empty()) m.text.push_back('\n');
        m.text.append(p.get_string());
        r.prompt_tokens += CountTokens(p.get_string());
      } else if (AsInt(p)) {  // a prompt given as token ids
        if (!m.text.empty()) m.text.push_back(' ');
        m.text.append(std::to_string(*AsInt(p)));
        r.prompt_tokens += 1;
      } else {
        return Bad("Invalid type for 'prompt': expected a string or an array.", "prompt",
                   "invalid_type");
      }
    }
  } else {
    return Bad("Invalid type for 'prompt': expected a string or an array.", "prompt",
               "invalid_type");
  }
  r.last_user_text = m.text;
  r.messages.push_back(std::move(m));
  return OkStatus();
}

Status ParseEmbeddings(const json::object& o, SimRequest& r) {
  const json::value* input = o.if_contains("input");
  if (input == nullptr) return Missing("input");
  auto bad_input = [] {
    return Bad("'$.input' is invalid. Please check the API reference.", "input", "invalid_value");
  };
  auto token_list = [&](const json::array& a) -> Result<std::string> {
    std::string s;
    for (const json::value& t : a) {
      if (!AsInt(t)) return bad_input();
      if (!s.empty()) s.push_back(' ');
      s.append(std::to_string(*AsInt(t)));
    }
    r.prompt_tokens += static_cast<int64_t>(a.size());
    return s;
  };
  if (input->is_string()) {
    r.inputs.emplace_back(input->get_string());
    r.prompt_tokens = CountTokens(input->get_string());
  } else if (input->is_array() && !input->get_array().empty()) {
    const json::array& a = input->get_array();
    if (AsInt(a.front())) {
      MM_TRY(std::string s, token_list(a));
      r.inputs.push_back(std::move(s));
    } else {
      for (const json::value& v : a) {
        if (v.is_string()) {
          r.inputs.emplace_back(v.get_string());
          r.prompt_tokens += CountTokens(v.get_string());
        } else if (v.is_array()) {
          MM_TRY(std::string s, token_list(v.get_array()));
          r.inputs.push_back(std::move(s));
        } else {
          return bad_input();
        }
      }
    }
  } else {
    return bad_input();
  }
  MM_TRY(auto dims, IntField(o, "dimensions", 1));
  r.dimensions = std::min(dims.value_or(DefaultEmbeddingDimensions(r.model)), kMaxDimensions);
  if (const json::value* f = o.if_contains("encoding_format"); f && !f->is_null()) {
    if (!f->is_string() || (f->get_string() != "float" && f->get_string() != "base64")) {
      return Bad("Invalid value for 'encoding_format': expected 'float' or 'base64'.",
                 "encoding_format", "invalid_value");
    }
    r.base64 = f->get_string() == "base64";
  }
  return OkStatus();
}

}  // namespace

int64_t PromptTokens(const std::vector<SimMessage>& messages) {
  int64_t n = 0;
  for (const SimMessage& m : messages) n += CountTokens(m.text) + 4 + m.extra_tokens;
  return n;
}

Result<SimRequest> ParseRequest(Endpoint endpoint, std::string_view body,
                                std::string_view fallback_model) {
  boost::system::error_code ec;
  json::value root = json::parse(body, ec);
  if (ec) {
    return Bad(
        "We could not parse the JSON body of your request. (HINT: This likely means you "
        "aren't using your HTTP library correctly. The OpenAI API expects a JSON payload.)",
        "", "invalid_json");
  }
  if (!root.is_object()) {
    return Bad("Invalid type for request body: expected an object.", "", "invalid_type");
  }
  const json::object& o = root.get_object();
  SimRequest r;
  r.endpoint = endpoint;
  const json::value* model = o.if_contains("model");
  if (model != nullptr && model->is_string() && !model->get_string().empty()) {
    r.model = std::string(model->get_string());
  } else if (model != nullptr && !model->is_null() && !model->is_string()) {
    return Bad("Invalid type for 'model': expected a string.", "model", "invalid_type");
  } else if (!fallback_model.empty()) {
    r.model = std::string(fallback_model);
  } else {
    return Bad("you must provide a model parameter", "model", "missing_required_parameter");
  }
  if (endpoint == Endpoint::kEmbeddings) {
    MM_RETURN_IF_ERROR(ParseEmbeddings(o, r));
    return r;
  }
  r.stream = BoolField(o, "stream");
  if (const json::value* so = o.if_contains("stream_options"); so && so->is_object()) {
    r.include_usage = BoolField(so->get_object(), "include_usage");
  }
  MM_TRY(auto max_tokens, IntField(o, "max_tokens", 1));
  MM_TRY(auto max_completion, IntField(o, "max_completion_tokens", 1));
  r.max_tokens = max_completion ? max_completion : max_tokens;
  if (endpoint == Endpoint::kChat) {
    MM_RETURN_IF_ERROR(ParseChat(o, r));
  } else {
    MM_RETURN_IF_ERROR(ParseLegacy(o, r));
    if (!r.max_tokens) r.max_tokens = kLegacyMaxTokens;
  }
  return r;
}

bool IsEchoModel(std::string_view model) {
  return model.find("echo") != std::string_view::npos;
}

ReplyPlan PlanReply(const SimRequest& request, std::optional<int64_t> natural_tokens) {
  ReplyPlan plan;
  plan.prompt_tokens = request.prompt_tokens;
  uint64_t h = Fnv1a(request.model);
  for (const SimMessage& m : request.messages) {
    h = Fnv1a(std::string_view("\0", 1), h);
    h = Fnv1a(m.role, h);
    h = Fnv1a(std::string_view("\0", 1), h);
    h = Fnv1a(m.text, h);
  }
  if (!request.tool_to_call.empty()) {
    SimToolCall call;
    char id[32];
    std::snprintf(id, sizeof(id), "call_sim_%012llx",
                  static_cast<unsigned long long>(h & 0xFFFFFFFFFFFFULL));
    call.id = id;
    call.name = request.tool_to_call;
    call.arguments = json::serialize(json::object{{"query", request.last_user_text}});
    call.fragments = SplitFragments(call.arguments, 3 + call.arguments.size() / 24);
    plan.completion_tokens = CountTokens(call.name) + CountTokens(call.arguments);
    plan.tool_call = std::move(call);
    plan.finish_reason = "tool_calls";
    return plan;
  }
  std::vector<std::string> pieces;
  // What arrived as media is stated first (tests read it to see what reached the provider).
  std::string media;
  for (const SimMessage& m : request.messages) {
    for (const auto& line : m.media) media += line + "\n";
  }
  if (IsEchoModel(request.model)) {
    pieces = SplitPieces(media + request.last_user_text);
  } else if (!media.empty()) {
    pieces = SplitPieces(media);
    int64_t natural =
        std::clamp<int64_t>(natural_tokens.value_or(kDefaultChatTokens), 0, kMaxOutputTokens);
    for (auto& p : GeneratePieces(h, static_cast<size_t>(natural),
                                  ContainsCjk(request.last_user_text), true)) {
      pieces.push_back(std::move(p));
    }
  } else {
    int64_t natural =
        std::clamp<int64_t>(natural_tokens.value_or(kDefaultChatTokens), 0, kMaxOutputTokens);
    bool cut = request.max_tokens && *request.max_tokens < natural;
    size_t n = static_cast<size_t>(cut ? *request.max_tokens : natural);
    pieces = GeneratePieces(h, n, ContainsCjk(request.last_user_text), !cut);
    if (cut) {
      plan.finish_reason = "length";
    }
  }
  if (request.max_tokens && static_cast<int64_t>(pieces.size()) > *request.max_tokens) {
    pieces.resize(static_cast<size_t>(*request.max_tokens));
    plan.finish_reason = "length";
  }
  if (plan.finish_reason.empty()) plan.finish_reason = "stop";
  plan.completion_tokens = static_cast<int64_t>(pieces.size());
  plan.pieces = std::move(pieces);
  return plan;
}

int64_t DefaultEmbeddingDimensions(std::string_view model) {
  if (model.starts_with("models/")) model.remove_prefix(7);
  std::string name(model);
  for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  struct Row {
    std::string_view model;
    int64_t dimensions;
  };
  static constexpr Row kRows[] = {
      {"text-embedding-3-small", 1536},
      {"text-embedding-ada-002", 1536},
      {"text-embedding-3-large", 3072},
      {"gemini-embedding-001", 3072},
      {"text-embedding-004", 768},
      {"embedding-v1", 384},
      {"bge_large_zh", 1024},
      {"bge_large_en", 1024},
      {"tao_8k", 1024},
  };
  for (const Row& row : kRows) {
    if (name == row.model) return row.dimensions;
  }
  return kDefaultDimensions;
}

std::vector<float> EmbeddingVector(std::string_view model, std::string_view input,
                                   int64_t dimensions) {
  if (model.starts_with("models/")) model.remove_prefix(7);  // Gemini's name for the same model
  uint64_t state = Fnv1a(input, Fnv1a(std::string_view("\0", 1), Fnv1a(model)));
  std::vector<double> raw(static_cast<size_t>(std::max<int64_t>(dimensions, 1)));
  double norm = 0;
  for (double& x : raw) {
    x = static_cast<double>(SplitMix64(state) >> 11) / 9007199254740992.0 * 2.0 - 1.0;
    norm += x * x;
  }
  norm = std::sqrt(norm);
  std::vector<float> out;
  out.reserve(raw.size());
  for (double x : raw) out.push_back(static_cast<float>(norm > 0 ? x / norm : 0));
  return out;
}

}  // namespace modelmux::sim
