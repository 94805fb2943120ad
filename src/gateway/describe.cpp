#include "gateway/describe.hpp"

#include <boost/json.hpp>

#include "routing/describe.hpp"

namespace modelmux::gateway {
namespace json = boost::json;

std::string DefaultDescribeModel(const routing::Config& config) {
  if (!config.media.describe_model.empty()) return config.media.describe_model;
  return config.using_simulator ? "sim/vision" : "";
}

boost::asio::awaitable<DescribeOutcome> ServeDescribe(std::shared_ptr<const routing::Router> router,
                                                      std::string body, RequestContext ctx,
                                                      net::Headers headers,
                                                      routing::AttemptLog* log) {
  DescribeOutcome out;
  auto input = routing::ParseDescribeBody(body, DefaultDescribeModel(router->config()));
  body.clear();
  body.shrink_to_fit();  // the media now lives in `input` only
  if (!input.ok()) {
    out.error = std::move(input).error();
    co_return out;
  }
  out.model = input->model;
  auto request = routing::BuildDescribeRequest(*input);
  input->media.clear();
  input->media.shrink_to_fit();
  if (!request.ok()) {
    out.error = std::move(request).error();
    co_return out;
  }
  out.prompt_chars = request->PromptChars();
  auto answer = co_await router->Chat(std::move(request).value(), ctx, std::move(headers), log);
  if (!answer.ok()) {
    out.error = std::move(answer).error();
    out.from_upstream = !out.error->provider.empty() || out.error->upstream_status != 0;
    co_return out;
  }
  out.usage = answer->usage;
  json::object o;
  o["id"] = answer->id.empty() ? "describe-" + ctx.request_id : answer->id;
  o["object"] = "describe";
  o["created"] = answer->created;
  o["model"] = answer->model.empty() ? out.model : answer->model;
  o["task"] = routing::DescribeTaskName(input->task);
  o["text"] = answer->choices.empty() ? std::string() : answer->choices[0].message.Text();
  if (answer->usage) {
    o["usage"] = json::object{{"prompt_tokens", answer->usage->prompt_tokens},
                              {"completion_tokens", answer->usage->completion_tokens},
                              {"total_tokens", answer->usage->total()}};
  }
  out.body = json::serialize(o);
  co_return out;
}

}  // namespace modelmux::gateway
