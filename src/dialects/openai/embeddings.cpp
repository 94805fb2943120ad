#include "dialects/openai/embeddings.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

#include "dialects/openai/json_util.hpp"

namespace modelmux::dialects::openai {
namespace {

// Doubles at or above this magnitude round to infinity as float32 (FLT_MAX plus half its ulp).
constexpr double kFloatLimit = static_cast<double>(std::numeric_limits<float>::max()) + 0x1p103;

using namespace detail;  // NOLINT: internal helpers of this dialect

constexpr char kBase64Alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

Error BadInput(std::string message, std::string code = "invalid_value") {
  return InvalidRequest(std::move(message), "input", std::move(code));
}

Error EmptyInput() {
  return BadInput(
      "Invalid 'input': the input must be a non-empty string or a non-empty array "
      "of non-empty strings.");
}

Error TokenArrays() {
  return BadInput("Invalid 'input': token-id arrays are not supported; send the text instead.",
                  "unsupported_value");
}

Error BadResponse(std::string message) {
  Error e;
  e.kind = ErrorKind::kUpstreamError;
  e.provider = "openai";
  e.code = "bad_upstream_response";
  e.message = std::move(message);
  return e;
}

bool IsTokenId(const json::value& v) {
  return v.is_int64() || v.is_uint64();
}

Result<std::string> OptionalString(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::string();
  if (!v->is_string()) return InvalidType(std::string(key), "a string", *v);
  return std::string(v->get_string());
}

Status DecodeInput(const json::value* input, EmbeddingRequest& req) {
  if (input == nullptr || input->is_null()) return MissingParam("input");
  if (input->is_string()) {
    if (input->get_string().empty()) return EmptyInput();
    req.inputs.emplace_back(input->get_string());
    req.input_is_string = true;
    return OkStatus();
  }
  if (!input->is_array()) return InvalidType("input", "a string or an array of strings", *input);
  const json::array& a = input->get_array();
  if (a.empty()) return EmptyInput();
  if (a.size() > kMaxEmbeddingInputs) {
    return BadInput("Invalid 'input': array too long. Expected an array with maximum length " +
                        std::to_string(kMaxEmbeddingInputs) + ", but got an array with length " +
                        std::to_string(a.size()) + " instead.",
                    "array_above_max_length");
  }
  req.input_is_string = false;
  req.inputs.reserve(a.size());
  for (const json::value& v : a) {
    if (IsTokenId(v) || v.is_array()) return TokenArrays();
    if (!v.is_string()) return InvalidType("input", "a string or an array of strings", v);
    if (v.get_string().empty()) return EmptyInput();
    req.inputs.emplace_back(v.get_string());
  }
  return OkStatus();
}

// Index of a base64 character, -1 for anything else.
int Base64Index(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

void AppendVector(std::string& out, const std::vector<float>& v) {
  out.push_back('[');
  for (size_t i = 0; i < v.size(); ++i) {
    if (i > 0) out.push_back(',');
    AppendFloat(out, v[i]);
  }
  out.push_back(']');
}

Result<std::vector<float>> VectorFrom(const json::value& v) {
  if (v.is_string()) return FloatsFromBase64(v.get_string());
  if (!v.is_array()) return BadResponse("upstream embedding is neither an array nor base64");
  std::vector<float> out;
  out.reserve(v.get_array().size());
  for (const json::value& x : v.get_array()) {
    auto n = AsNumber(x);
    if (!n || !(std::fabs(*n) < kFloatLimit)) {
      return BadResponse("upstream embedding holds a value that is not a float32 number");
    }
    out.push_back(static_cast<float>(*n));
  }
  return out;
}

}  // namespace

void AppendFloat(std::string& out, float value) {
  if (!std::isfinite(value)) {
    out.push_back('0');
    return;
  }
  if (value == 0.0f && std::signbit(value)) {
    out += "-0.0";  // "-0" would read back as the integer 0
    return;
  }
  char buf[32];
  auto res = std::to_chars(buf, buf + sizeof(buf), value);
  out.append(buf, res.ptr);
}

std::string FloatsToBase64(const std::vector<float>& values) {
  std::string bytes(values.size() * 4, '\0');
  for (size_t i = 0; i < values.size(); ++i) {
    uint32_t bits = 0;
    std::memcpy(&bits, &values[i], sizeof(bits));
    for (size_t b = 0; b < 4; ++b) bytes[i * 4 + b] = static_cast<char>((bits >> (8 * b)) & 0xFF);
  }
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t n = (static_cast<uint8_t>(bytes[i]) << 16) |
                       (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    out.push_back(kBase64Alphabet[(n >> 18) & 63]);
    out.push_back(kBase64Alphabet[(n >> 12) & 63]);
    out.push_back(kBase64Alphabet[(n >> 6) & 63]);
    out.push_back(kBase64Alphabet[n & 63]);
  }
  const size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
    if (rest == 2) n |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out.push_back(kBase64Alphabet[(n >> 18) & 63]);
    out.push_back(kBase64Alphabet[(n >> 12) & 63]);
    out.push_back(rest == 2 ? kBase64Alphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

Result<std::vector<float>> FloatsFromBase64(std::string_view text) {
  std::string bytes;
  bytes.reserve(text.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  size_t pad = 0;
  for (char c : text) {
    if (c == '=') {
      ++pad;
      continue;
    }
    const int idx = Base64Index(c);
    if (idx < 0 || pad > 0) return BadResponse("upstream embedding is not valid base64");
    acc = (acc << 6) | static_cast<uint32_t>(idx);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      bytes.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  if (pad > 2 || bytes.size() % 4 != 0) {
    return BadResponse("upstream base64 embedding is not a whole number of float32 values");
  }
  std::vector<float> out(bytes.size() / 4);
  for (size_t i = 0; i < out.size(); ++i) {
    uint32_t b = 0;
    for (size_t k = 0; k < 4; ++k)
      b |= static_cast<uint32_t>(static_cast<uint8_t>(bytes[i * 4 + k])) << (8 * k);
    std::memcpy(&out[i], &b, sizeof(b));
  }
  return out;
}

Result<EmbeddingRequest> DecodeEmbeddingRequest(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return ParseBodyError();
  const json::object& o = v.get_object();
  EmbeddingRequest req;
  const json::value* model = o.if_contains("model");
  if (model == nullptr || model->is_null()) return MissingParam("model");
  if (!model->is_string()) return InvalidType("model", "a string", *model);
  req.model = std::string(model->get_string());
  MM_RETURN_IF_ERROR(DecodeInput(o.if_contains("input"), req));
  if (const json::value* d = o.if_contains("dimensions"); d && !d->is_null()) {
    auto n = AsInt(*d);
    if (!n) return InvalidType("dimensions", "an integer", *d);
    if (*n < 1) {
      return InvalidRequest(
          "Invalid 'dimensions': integer below minimum value. Expected a value >= 1, but got " +
              std::to_string(*n) + " instead.",
          "dimensions", "integer_below_min_value");
    }
    req.dimensions = *n;
  }
  MM_TRY(req.encoding_format, OptionalString(o, "encoding_format"));
  if (!req.encoding_format.empty() && req.encoding_format != "float" &&
      req.encoding_format != "base64") {
    return InvalidRequest(
        "Invalid value for 'encoding_format': expected 'float' or 'base64', "
        "but got '" +
            req.encoding_format + "' instead.",
        "encoding_format", "invalid_value");
  }
  MM_TRY(req.user, OptionalString(o, "user"));
  MM_TRY(req.task_type, OptionalString(o, "task_type"));
  if (const json::value* s = o.if_contains("stream"); s && !s->is_null()) {
    if (!s->is_bool()) return InvalidType("stream", "a boolean", *s);
    if (s->get_bool()) {
      return InvalidRequest("Embeddings are not streamed; leave 'stream' unset.", "stream",
                            "unsupported_value");
    }
  }
  return req;
}

std::string EncodeEmbeddingResponse(const EmbeddingResponse& response, bool base64) {
  std::string out;
  size_t floats = 0;
  for (const auto& e : response.data) floats += e.vector.size();
  out.reserve(96 + response.model.size() + response.data.size() * 48 + floats * 14);
  out += R"({"object":"list","data":[)";
  for (size_t i = 0; i < response.data.size(); ++i) {
    const Embedding& e = response.data[i];
    if (i > 0) out.push_back(',');
    out += R"({"object":"embedding","index":)";
    out += std::to_string(e.index);
    out += R"(,"embedding":)";
    if (base64) {
      out.push_back('"');
      out += FloatsToBase64(e.vector);
      out.push_back('"');
    } else {
      AppendVector(out, e.vector);
    }
    out.push_back('}');
  }
  out += R"(],"model":)";
  out += json::serialize(json::string(response.model));
  const std::string tokens = std::to_string(response.prompt_tokens);
  out += R"(,"usage":{"prompt_tokens":)" + tokens + R"(,"total_tokens":)" + tokens + "}}";
  return out;
}

std::string EncodeEmbeddingRequest(const EmbeddingRequest& request,
                                   std::string_view upstream_model) {
  json::object o;
  o["model"] = upstream_model.empty() ? std::string_view(request.model) : upstream_model;
  if (request.input_is_string && request.inputs.size() == 1) {
    o["input"] = request.inputs.front();
  } else {
    json::array a;
    a.reserve(request.inputs.size());
    for (const auto& s : request.inputs) a.emplace_back(s);
    o["input"] = std::move(a);
  }
  if (request.dimensions) o["dimensions"] = *request.dimensions;
  if (!request.encoding_format.empty()) o["encoding_format"] = request.encoding_format;
  if (!request.user.empty()) o["user"] = request.user;
  return json::serialize(o);
}

Result<EmbeddingResponse> DecodeEmbeddingResponse(std::string_view body) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec || !v.is_object()) return BadResponse("upstream embeddings answer is not a JSON object");
  const json::object& o = v.get_object();
  const json::value* data = o.if_contains("data");
  if (data == nullptr || !data->is_array()) {
    return BadResponse("upstream embeddings answer has no data array");
  }
  EmbeddingResponse resp;
  if (const json::value* m = o.if_contains("model"); m && m->is_string()) {
    resp.model = std::string(m->get_string());
  }
  resp.data.reserve(data->get_array().size());
  int position = 0;
  for (const json::value& item : data->get_array()) {
    if (!item.is_object()) return BadResponse("upstream embeddings entry is not an object");
    const json::object& it = item.get_object();
    const json::value* emb = it.if_contains("embedding");
    if (emb == nullptr) return BadResponse("upstream embeddings entry has no embedding");
    Embedding e;
    e.index = position;
    if (const json::value* idx = it.if_contains("index"); idx != nullptr) {
      if (auto n = AsInt(*idx); n && *n >= 0 && *n <= INT32_MAX) e.index = static_cast<int>(*n);
    }
    MM_TRY(e.vector, VectorFrom(*emb));
    resp.data.push_back(std::move(e));
    ++position;
  }
  std::stable_sort(resp.data.begin(), resp.data.end(),
                   [](const Embedding& a, const Embedding& b) { return a.index < b.index; });
  if (auto u = UsageFromJson(o.if_contains("usage"))) resp.prompt_tokens = u->prompt_tokens;
  return resp;
}

}  // namespace modelmux::dialects::openai
