#include "sim/gemini_embed.hpp"

#include <boost/json.hpp>

#include "sim/text_gen.hpp"

namespace modelmux::sim {
namespace json = boost::json;
namespace {

constexpr std::string_view kTaskTypes[] = {
    "TASK_TYPE_UNSPECIFIED", "RETRIEVAL_QUERY",   "RETRIEVAL_DOCUMENT",
    "SEMANTIC_SIMILARITY",   "CLASSIFICATION",    "CLUSTERING",
    "QUESTION_ANSWERING",    "FACT_VERIFICATION", "CODE_RETRIEVAL_QUERY",
};

Error Bad(std::string message, std::string param = {}) {
  return InvalidRequest(std::move(message), std::move(param));
}

}  // namespace

Result<SimRequest> ParseGeminiBatchEmbed(std::string_view model, std::string_view body) {
  boost::system::error_code ec;
  json::value root = json::parse(body, ec);
  if (ec) return Bad("Invalid JSON payload received. Unexpected token.");
  if (!root.is_object()) return Bad("Invalid JSON payload received. Expected an object.");
  const json::value* requests = root.get_object().if_contains("requests");
  if (requests == nullptr || !requests->is_array() || requests->get_array().empty()) {
    return Bad("* BatchEmbedContentsRequest.requests: requests is not specified", "requests");
  }
  if (requests->get_array().size() > kGeminiMaxBatch) {
    return Bad("* BatchEmbedContentsRequest.requests: at most " + std::to_string(kGeminiMaxBatch) +
                   " requests can be in one batch",
               "requests");
  }
  SimRequest r;
  r.endpoint = Endpoint::kEmbeddings;
  r.model = std::string(model);
  std::optional<int64_t> dims;
  size_t i = 0;
  for (const json::value& item : requests->get_array()) {
    const std::string where = "* BatchEmbedContentsRequest.requests[" + std::to_string(i++) + "]";
    if (!item.is_object()) return Bad(where + ": a request must be an object.", "requests");
    const json::object& req = item.get_object();
    if (const json::value* m = req.if_contains("model"); m != nullptr) {
      const bool same = m->is_string() && (m->get_string() == "models/" + std::string(model) ||
                                           m->get_string() == model);
      if (!same) {
        return Bad(where + ".model: the model of every request must be the batch's (models/" +
                       std::string(model) + ").",
                   "model");
      }
    }
    const json::value* content = req.if_contains("content");
    const json::value* parts = content != nullptr && content->is_object()
                                   ? content->get_object().if_contains("parts")
                                   : nullptr;
    if (parts == nullptr || !parts->is_array() || parts->get_array().empty()) {
      return Bad(where + ".content.parts: contents.parts must not be empty.", "content");
    }
    std::string text;
    for (const json::value& part : parts->get_array()) {
      const json::value* t = part.is_object() ? part.get_object().if_contains("text") : nullptr;
      if (t == nullptr || !t->is_string()) continue;
      if (!text.empty()) text.push_back('\n');
      text.append(t->get_string());
    }
    if (text.empty()) return Bad(where + ".content: the content has no text.", "content");
    if (const json::value* task = req.if_contains("taskType"); task && !task->is_null()) {
      bool known = false;
      for (std::string_view t : kTaskTypes)
        known = known || (task->is_string() && task->get_string() == t);
      if (!known) {
        return Bad("Invalid value at 'requests[" + std::to_string(i - 1) +
                       "].task_type', unknown enum value.",
                   "taskType");
      }
    }
    std::optional<int64_t> d;
    if (const json::value* od = req.if_contains("outputDimensionality"); od && !od->is_null()) {
      if (!od->is_int64() || od->get_int64() < 1) {
        return Bad(where + ".output_dimensionality: must be a positive integer.",
                   "outputDimensionality");
      }
      d = od->get_int64();
    }
    if (i > 1 && d != dims) {
      return Bad(where +
                     ".output_dimensionality: every request of a batch must ask for the same "
                     "size (simulator).",
                 "outputDimensionality");
    }
    dims = d;
    r.prompt_tokens += CountTokens(text);
    r.inputs.push_back(std::move(text));
  }
  r.dimensions = std::min(dims.value_or(DefaultEmbeddingDimensions(model)), kMaxDimensions);
  return r;
}

std::string GeminiBatchEmbedJson(const SimRequest& request) {
  json::array embeddings;
  embeddings.reserve(request.inputs.size());
  for (const auto& text : request.inputs) {
    json::array values;
    for (float x : EmbeddingVector(request.model, text, request.dimensions)) {
      values.emplace_back(static_cast<double>(x));
    }
    embeddings.emplace_back(json::object{{"values", std::move(values)}});
  }
  return json::serialize(json::object{{"embeddings", std::move(embeddings)}});
}

}  // namespace modelmux::sim
