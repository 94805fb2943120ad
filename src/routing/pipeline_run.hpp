#pragma once
// Multi-model pipelines: the calls. Router::Chat and Router::OpenStream hand a request whose model
// names a pipeline to these; each member call goes through the Router again (with the Dispatcher's
// retries and fallbacks), so a member may be an alias or provider/model of any dialect.
//
//   vision_then_reason  with images: the vision model describes them (routing/pipeline.hpp
//                       VisionRequest), then the reasoner answers the conversation with the
//                       images replaced by the description; without images: the reasoner alone.
//                       Usage is the sum of both calls. Streamed: the reasoner's answer streams.
//   fan_out             every model at once; without a judge every successful answer is a choice
//                       (in config order); with one the judge picks the choice returned. A member
//                       that fails is left out; the call fails only when all do (the first
//                       error). Usage: all members (and the judge). Streamed: the whole answer
//                       is computed, then sent as one delta per choice, usage and done.
//   conditional         the first route whose `when` holds (modality, prompt tokens, the
//                       caller's tier: a "tier:<name>" tag of its key (ctx.key_tags), else the
//                       x-modelmux-tier header in `forward`; its key's tags) serves the call as
//                       it is. A tier header overridden by the key's adds the note
//                       "tier_header_ignored".
//
// `log` (optional) receives the member calls' attempts summed, their fallbacks, the answering
// deployment (fan_out without judge: every answering deployment, comma-separated) and `notes`.

#include <boost/asio/awaitable.hpp>
#include <memory>

#include "core/chat.hpp"
#include "core/request_context.hpp"
#include "core/result.hpp"
#include "net/headers.hpp"
#include "routing/config.hpp"
#include "routing/dispatch.hpp"

namespace modelmux::routing {

class Router;
class UpstreamStream;

// Errors: the member calls' (vision_then_reason: the vision call's error ends the call;
// fan_out: the first member's error when every member failed); kNotFound model_not_found when no
// conditional route matches.
boost::asio::awaitable<Result<ChatResponse>> PipelineChat(const Router& router,
                                                          const Pipeline& pipeline,
                                                          ChatRequest request, RequestContext ctx,
                                                          net::Headers forward, AttemptLog* log);

boost::asio::awaitable<Result<std::unique_ptr<UpstreamStream>>> PipelineStream(
    const Router& router, const Pipeline& pipeline, ChatRequest request, RequestContext ctx,
    net::Headers forward, AttemptLog* log);

}  // namespace modelmux::routing
