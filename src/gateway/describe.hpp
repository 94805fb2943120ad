#pragma once
// POST /v1/describe: the seed's task endpoint. A body such as
//   {"image": "<base64 | data: URL | http(s) URL>", "task": "image-captioning"}
// (or "video", task "ocr" / "qa" with "question", optional "model") becomes one chat completion
// through the router (so the media stage fits the image to the provider), and the answer comes
// back as {"id","object":"describe","created","model","task","text","usage"}.

#include <boost/asio/awaitable.hpp>
#include <optional>
#include <string>

#include "core/error.hpp"
#include "core/request_context.hpp"
#include "core/usage.hpp"
#include "net/headers.hpp"
#include "routing/router.hpp"

namespace modelmux::gateway {

struct DescribeOutcome {
  std::string body;
  std::optional<Error> error;
  bool from_upstream = false;
  std::string model;  // as the caller named it (or the default)
  size_t prompt_chars = 0;
  std::optional<Usage> usage;
};

boost::asio::awaitable<DescribeOutcome> ServeDescribe(std::shared_ptr<const routing::Router> router,
                                                      std::string body, RequestContext ctx,
                                                      net::Headers headers,
                                                      routing::AttemptLog* log);

// The model used when the body names none: media.describe_model, else "sim/vision" when only
// the simulator is configured, else "".
[[nodiscard]] std::string DefaultDescribeModel(const routing::Config& config);

}  // namespace modelmux::gateway
