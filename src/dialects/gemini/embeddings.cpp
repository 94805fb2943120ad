#include "dialects/gemini/embeddings.hpp"

#include <cmath>
#include <limits>

#include "dialects/gemini/wire.hpp"

namespace modelmux::dialects::gemini {
namespace {

// Doubles at or above this magnitude round to infinity as float32 (FLT_MAX plus half its ulp).
constexpr double kFloatLimit = static_cast<double>(std::numeric_limits<float>::max()) + 0x1p103;

using namespace detail;  // NOLINT: internal helpers of this dialect

constexpr std::string_view kTaskTypes[] = {
    "RETRIEVAL_QUERY", "RETRIEVAL_DOCUMENT", "SEMANTIC_SIMILARITY", "CLASSIFICATION",
    "CLUSTERING",      "QUESTION_ANSWERING", "FACT_VERIFICATION",   "CODE_RETRIEVAL_QUERY",
};

Error BadResponse(std::string message) {
  Error e;
  e.kind = ErrorKind::kUpstreamError;
  e.provider = "gemini";
  e.code = "bad_upstream_response";
  e.message = std::move(message);
  return e;
}

// "models/x" for a bare name; names with a collection ("models/x", "tunedModels/x") unchanged.
std::string QualifiedModel(std::string_view model) {
  if (model.find('/') != std::string_view::npos) return std::string(model);
  return "models/" + std::string(model);
}

}  // namespace

std::string BatchEmbedContentsPath(std::string_view model) {
  return "/" + QualifiedModel(model) + ":batchEmbedContents";
}

Result<std::string> GeminiTaskType(std::string_view task_type) {
  if (task_type.empty()) return std::string();
  std::string upper(task_type);
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  if (upper == "QUERY") return std::string("RETRIEVAL_QUERY");
  if (upper == "DOCUMENT") return std::string("RETRIEVAL_DOCUMENT");
  for (std::string_view t : kTaskTypes) {
    if (upper == t) return upper;
  }
  return InvalidRequest(
      "Invalid 'task_type': '" + std::string(task_type) + "' is not a task type Gemini knows.",
      "task_type", "invalid_value");
}

Result<std::string> EncodeBatchEmbedRequest(const EmbeddingRequest& request,
                                            std::string_view model) {
  if (model.empty()) model = request.model;
  MM_TRY(std::string task, GeminiTaskType(request.task_type));
  const std::string qualified = QualifiedModel(model);
  json::array requests;
  requests.reserve(request.inputs.size());
  for (const auto& text : request.inputs) {
    json::object r;
    r["model"] = qualified;
    r["content"] = json::object{{"parts", json::array{json::object{{"text", text}}}}};
    if (!task.empty()) r["taskType"] = task;
    if (request.dimensions) r["outputDimensionality"] = *request.dimensions;
    requests.emplace_back(std::move(r));
  }
  return json::serialize(json::object{{"requests", std::move(requests)}});
}

Result<EmbeddingResponse> DecodeBatchEmbedResponse(std::string_view body) {
  auto v = Parse(body);
  if (!v || !v->is_object()) return BadResponse("upstream embeddings answer is not a JSON object");
  const json::array* embeddings = ArrayOf(v->get_object(), "embeddings");
  if (embeddings == nullptr) return BadResponse("upstream embeddings answer has no embeddings");
  EmbeddingResponse resp;
  resp.data.reserve(embeddings->size());
  int index = 0;
  for (const json::value& item : *embeddings) {
    const json::array* values = item.is_object() ? ArrayOf(item.get_object(), "values") : nullptr;
    if (values == nullptr) return BadResponse("upstream embedding has no values");
    Embedding e;
    e.index = index++;
    e.vector.reserve(values->size());
    for (const json::value& x : *values) {
      if (x.is_double()) {
        if (!(std::fabs(x.get_double()) < kFloatLimit)) {
          return BadResponse("upstream embedding holds a value that is not a float32 number");
        }
        e.vector.push_back(static_cast<float>(x.get_double()));
      } else if (auto n = AsInt(x)) {
        e.vector.push_back(static_cast<float>(*n));
      } else {
        return BadResponse("upstream embedding holds a value that is not a number");
      }
    }
    resp.data.push_back(std::move(e));
  }
  return resp;
}

}  // namespace modelmux::dialects::gemini
