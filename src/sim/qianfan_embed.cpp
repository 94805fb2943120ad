#include "sim/qianfan_embed.hpp"

#include <boost/json.hpp>

#include "sim/text_gen.hpp"

namespace modelmux::sim {
namespace json = boost::json;

Result<SimRequest> ParseQianfanEmbeddings(std::string_view endpoint, std::string_view body,
                                          QianfanReject* reject) {
  auto fail = [reject](int64_t code, std::string message) -> Error {
    if (reject != nullptr) *reject = QianfanReject{code, message};
    return InvalidRequest(std::move(message));
  };
  boost::system::error_code ec;
  json::value root = json::parse(body, ec);
  if (ec || !root.is_object()) return fail(336002, "Invalid JSON");
  const json::object& o = root.get_object();
  const json::value* input = o.if_contains("input");
  if (input == nullptr || !input->is_array() || input->get_array().empty()) {
    return fail(336003, "the input field must be a non-empty array of strings");
  }
  if (input->get_array().size() > kQianfanMaxEmbeddingInputs) {
    return fail(336003, "the number of input texts must not exceed " +
                            std::to_string(kQianfanMaxEmbeddingInputs));
  }
  if (const json::value* u = o.if_contains("user_id"); u != nullptr && !u->is_string()) {
    return fail(336003, "the user_id field must be a string");
  }
  SimRequest r;
  r.endpoint = Endpoint::kEmbeddings;
  r.model = std::string(endpoint);
  for (const json::value& v : input->get_array()) {
    if (!v.is_string() || v.get_string().empty()) {
      return fail(336003, "every input must be a non-empty string");
    }
    r.inputs.emplace_back(v.get_string());
    r.prompt_tokens += CountTokens(v.get_string());
  }
  r.dimensions = std::min(DefaultEmbeddingDimensions(endpoint), kMaxDimensions);
  return r;
}

std::string QianfanEmbeddingsJson(const ResponseMeta& meta, const SimRequest& request) {
  json::array data;
  data.reserve(request.inputs.size());
  for (size_t i = 0; i < request.inputs.size(); ++i) {
    json::array values;
    for (float x : EmbeddingVector(request.model, request.inputs[i], request.dimensions)) {
      values.emplace_back(static_cast<double>(x));
    }
    data.emplace_back(json::object{{"object", "embedding"},
                                   {"embedding", std::move(values)},
                                   {"index", static_cast<int64_t>(i)}});
  }
  return json::serialize(
      json::object{{"id", meta.id},
                   {"object", "embedding_list"},
                   {"created", meta.created},
                   {"data", std::move(data)},
                   {"usage", json::object{{"prompt_tokens", request.prompt_tokens},
                                          {"total_tokens", request.prompt_tokens}}}});
}

}  // namespace modelmux::sim
