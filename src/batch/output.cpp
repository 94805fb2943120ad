#include "batch/output.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "dialects/openai/embeddings.hpp"
#include "dialects/openai/errors.hpp"
#include "dialects/openai/response.hpp"

namespace modelmux::batch {
namespace json = boost::json;
namespace {

std::string UsageJson(const Usage& u) {
  json::object o{{"prompt_tokens", u.prompt_tokens},
                 {"completion_tokens", u.completion_tokens},
                 {"total_tokens", u.total()}};
  if (u.cache_read_tokens > 0) o["cached_tokens"] = u.cache_read_tokens;
  return json::serialize(o);
}

std::string EncodeBatchApi(const Outcome& o, std::string_view unique) {
  std::string body;
  int status = 200;
  if (o.error) {
    status = o.error->HttpStatus();
    body = dialects::openai::EncodeError(*o.error);
  } else if (o.endpoint == Endpoint::kChat) {
    body = dialects::openai::EncodeChatResponse(o.chat);
  } else {
    body = dialects::openai::EncodeEmbeddingResponse(o.embedding, false);
  }
  std::string out = R"({"id":"batch_req_)";
  out += unique;
  out += R"(","custom_id":)";
  out += o.id_json;
  out += R"(,"response":{"status_code":)";
  out += std::to_string(status);
  out += R"(,"request_id":)";
  out += json::serialize(json::value(o.request_id));
  out += R"(,"body":)";
  out += body;
  out += R"(},"error":null})";
  return out;
}

std::string EncodeSimple(const Outcome& o) {
  std::string out = R"({"id":)" + o.id_json;
  if (o.error) {
    json::object e{{"message", o.error->message},
                   {"type", std::string(ErrorKindName(o.error->kind))},
                   {"code", o.error->code},
                   {"status", o.error->HttpStatus()}};
    if (!o.error->param.empty()) e["param"] = o.error->param;
    if (!o.error->provider.empty()) e["provider"] = o.error->provider;
    out += R"(,"error":)" + json::serialize(e) + "}";
    return out;
  }
  const std::string text = o.chat.choices.empty() ? "" : o.chat.choices[0].message.Text();
  out += R"(,"response":)" + json::serialize(json::value(text));
  out += R"(,"model":)" + json::serialize(json::value(o.chat.model));
  if (!o.chat.choices.empty()) {
    out += R"(,"finish_reason":)" +
           json::serialize(json::value(FinishReasonName(o.chat.choices[0].finish_reason)));
  }
  if (o.usage) out += R"(,"usage":)" + UsageJson(*o.usage);
  out += "}";
  return out;
}

}  // namespace

std::string EncodeOutcome(const Outcome& outcome, std::string_view unique) {
  std::string line = outcome.format == LineFormat::kBatchApi ? EncodeBatchApi(outcome, unique)
                                                             : EncodeSimple(outcome);
  // JSON serialisers escape control characters; a raw newline would break the line format.
  for (char& c : line) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  line.push_back('\n');
  return line;
}

}  // namespace modelmux::batch
