#include "dialects/openai/json_util.hpp"

#include <charconv>

namespace modelmux::dialects::openai::detail {

Error ParseBodyError() {
  return InvalidRequest(
      "We could not parse the JSON body of your request. The body must be a JSON object.", "",
      "invalid_json");
}

std::string_view DescribeKind(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
      return "an integer";
    case json::kind::double_:
      return "a decimal";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

Error InvalidType(std::string param, std::string_view expected, const json::value& got) {
  std::string msg = "Invalid type for '" + param + "': expected " + std::string(expected) +
                    ", but got " + std::string(DescribeKind(got)) + " instead.";
  return InvalidRequest(std::move(msg), std::move(param), "invalid_type");
}

Error MissingParam(std::string param) {
  std::string msg = "Missing required parameter: '" + param + "'.";
  return InvalidRequest(std::move(msg), std::move(param), "missing_required_parameter");
}

std::optional<int64_t> AsInt(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64() && v.get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return static_cast<int64_t>(v.get_uint64());
  }
  return std::nullopt;
}

std::optional<double> AsNumber(const json::value& v) {
  if (v.is_double()) return v.get_double();
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  return std::nullopt;
}

namespace {

std::string FormatNumber(double d) {
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof(buf), d);
  return std::string(buf, res.ptr);
}

std::optional<Error> CheckRange(const json::object& o, std::string_view key, double lo, double hi) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  auto num = AsNumber(*v);
  if (!num) return InvalidType(std::string(key), "a decimal", *v);
  if (*num < lo) {
    return InvalidRequest("Invalid '" + std::string(key) +
                              "': decimal below minimum value. Expected a value >= " +
                              FormatNumber(lo) + ", but got " + FormatNumber(*num) + " instead.",
                          std::string(key), "decimal_below_min_value");
  }
  if (*num > hi) {
    return InvalidRequest("Invalid '" + std::string(key) +
                              "': decimal above maximum value. Expected a value <= " +
                              FormatNumber(hi) + ", but got " + FormatNumber(*num) + " instead.",
                          std::string(key), "decimal_above_max_value");
  }
  return std::nullopt;
}

std::optional<Error> CheckInt(const json::object& o, std::string_view key, int64_t lo, int64_t hi) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (v->is_uint64() && !AsInt(*v)) {
    return InvalidRequest("Invalid '" + std::string(key) + "': integer above maximum value.",
                          std::string(key), "integer_above_max_value");
  }
  auto n = AsInt(*v);
  if (!n) return InvalidType(std::string(key), "an integer", *v);
  if (*n < lo) {
    return InvalidRequest("Invalid '" + std::string(key) +
                              "': integer below minimum value. Expected a value >= " +
                              std::to_string(lo) + ", but got " + std::to_string(*n) + " instead.",
                          std::string(key), "integer_below_min_value");
  }
  if (*n > hi) {
    return InvalidRequest("Invalid '" + std::string(key) +
                              "': integer above maximum value. Expected a value <= " +
                              std::to_string(hi) + ", but got " + std::to_string(*n) + " instead.",
                          std::string(key), "integer_above_max_value");
  }
  return std::nullopt;
}

}  // namespace

std::optional<Error> CheckTopLevel(const json::value& body) {
  if (!body.is_object()) return ParseBodyError();
  const json::object& o = body.get_object();
  const json::value* model = o.if_contains("model");
  if (model == nullptr || model->is_null()) return MissingParam("model");
  if (!model->is_string()) return InvalidType("model", "a string", *model);
  const json::value* messages = o.if_contains("messages");
  if (messages == nullptr || messages->is_null()) return MissingParam("messages");
  if (!messages->is_array()) return InvalidType("messages", "an array", *messages);
  if (messages->get_array().empty()) {
    return InvalidRequest(
        "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an "
        "empty array instead.",
        "messages", "empty_array");
  }
  if (const json::value* s = o.if_contains("stream"); s && !s->is_null() && !s->is_bool()) {
    return InvalidType("stream", "a boolean", *s);
  }
  if (auto e = CheckRange(o, "temperature", 0, 2)) return e;
  if (auto e = CheckRange(o, "top_p", 0, 1)) return e;
  if (auto e = CheckInt(o, "max_tokens", 1, INT64_MAX)) return e;
  if (auto e = CheckInt(o, "max_completion_tokens", 1, INT64_MAX)) return e;
  if (auto e = CheckInt(o, "n", 1, 128)) return e;
  return std::nullopt;
}

namespace {

int64_t IntField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return 0;
  if (auto n = AsInt(*v)) return *n;
  if (v->is_double()) return static_cast<int64_t>(v->get_double());
  return 0;
}

int64_t NestedInt(const json::object& o, std::string_view obj, std::string_view key) {
  const json::value* v = o.if_contains(obj);
  if (v == nullptr || !v->is_object()) return 0;
  return IntField(v->get_object(), key);
}

}  // namespace

std::optional<Usage> UsageFromJson(const json::value* v) {
  if (v == nullptr || !v->is_object()) return std::nullopt;
  const json::object& o = v->get_object();
  Usage u;
  u.prompt_tokens = IntField(o, "prompt_tokens");
  u.completion_tokens = IntField(o, "completion_tokens");
  u.cache_read_tokens = NestedInt(o, "prompt_tokens_details", "cached_tokens");
  if (u.cache_read_tokens == 0) u.cache_read_tokens = IntField(o, "prompt_cache_hit_tokens");
  if (u.cache_read_tokens == 0) u.cache_read_tokens = IntField(o, "cached_tokens");
  u.reasoning_tokens = NestedInt(o, "completion_tokens_details", "reasoning_tokens");
  return u;
}

std::optional<Usage> UsageFromBody(const json::object& body) {
  if (auto u = UsageFromJson(body.if_contains("usage"))) return u;
  const json::value* choices = body.if_contains("choices");
  if (choices == nullptr || !choices->is_array() || choices->get_array().empty()) {
    return std::nullopt;
  }
  const json::value& first = choices->get_array()[0];
  if (!first.is_object()) return std::nullopt;
  return UsageFromJson(first.get_object().if_contains("usage"));
}

json::object UsageToJson(const Usage& u) {
  json::object o;
  o["prompt_tokens"] = u.prompt_tokens;
  o["completion_tokens"] = u.completion_tokens;
  o["total_tokens"] = u.total();
  o["prompt_tokens_details"] = json::object{{"cached_tokens", u.cache_read_tokens}};
  o["completion_tokens_details"] = json::object{{"reasoning_tokens", u.reasoning_tokens}};
  return o;
}

std::string ToText(const json::value& v) {
  return json::serialize(v);
}

}  // namespace modelmux::dialects::openai::detail
