#include "dialects/qianfan/embeddings.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "dialects/qianfan/errors.hpp"
#include "dialects/qianfan/wire.hpp"

namespace modelmux::dialects::qianfan {
namespace {

// Doubles at or above this magnitude round to infinity as float32 (FLT_MAX plus half its ulp).
constexpr double kFloatLimit = static_cast<double>(std::numeric_limits<float>::max()) + 0x1p103;

using namespace detail;  // NOLINT: internal helpers of this dialect

Error BadResponse(std::string message) {
  Error e;
  e.kind = ErrorKind::kUpstreamError;
  e.provider = "qianfan";
  e.code = "bad_upstream_response";
  e.message = std::move(message);
  return e;
}

}  // namespace

Result<std::string> EmbeddingsPath(std::string_view model) {
  if (model.empty()) return InvalidRequest("Qianfan needs a model name", "model");
  for (char c : model) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) {
      return InvalidRequest("Qianfan endpoint names use letters, digits, '-', '_' and '.'", "model",
                            "invalid_value");
    }
  }
  return std::string(kEmbeddingsPath) + std::string(model);
}

std::string EncodeEmbeddingsRequest(const EmbeddingRequest& request) {
  json::array input;
  input.reserve(request.inputs.size());
  for (const auto& s : request.inputs) input.emplace_back(s);
  json::object o{{"input", std::move(input)}};
  if (!request.user.empty()) o["user_id"] = request.user;
  return json::serialize(o);
}

Result<EmbeddingResponse> DecodeEmbeddingsResponse(std::string_view body) {
  if (auto e = ErrorFromBody(body, 200)) return *e;
  auto v = Parse(body);
  if (!v || !v->is_object()) return BadResponse("upstream embeddings answer is not a JSON object");
  const json::object& o = v->get_object();
  const json::value* data = o.if_contains("data");
  if (data == nullptr || !data->is_array()) {
    return BadResponse("upstream embeddings answer has no data array");
  }
  EmbeddingResponse resp;
  resp.data.reserve(data->get_array().size());
  int position = 0;
  for (const json::value& item : data->get_array()) {
    const json::value* emb =
        item.is_object() ? item.get_object().if_contains("embedding") : nullptr;
    if (emb == nullptr || !emb->is_array())
      return BadResponse("upstream embedding is not an array");
    Embedding e;
    e.index = position++;
    if (const json::value* idx = item.get_object().if_contains("index")) {
      if (auto n = AsInt(*idx); n && *n >= 0 && *n <= INT32_MAX) e.index = static_cast<int>(*n);
    }
    e.vector.reserve(emb->get_array().size());
    for (const json::value& x : emb->get_array()) {
      if (x.is_double()) {
        if (!(std::fabs(x.get_double()) < kFloatLimit)) {
          return BadResponse("upstream embedding holds a value that is not a float32 number");
        }
        e.vector.push_back(static_cast<float>(x.get_double()));
      } else if (x.is_int64() || x.is_uint64()) {
        e.vector.push_back(static_cast<float>(x.to_number<double>()));
      } else {
        return BadResponse("upstream embedding holds a value that is not a number");
      }
    }
    resp.data.push_back(std::move(e));
  }
  std::stable_sort(resp.data.begin(), resp.data.end(),
                   [](const Embedding& a, const Embedding& b) { return a.index < b.index; });
  if (auto u = UsageOf(o)) resp.prompt_tokens = u->prompt_tokens;
  return resp;
}

}  // namespace modelmux::dialects::qianfan
