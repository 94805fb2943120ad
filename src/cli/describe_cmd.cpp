// `modelmux describe IMAGE|VIDEO`: the seed's task endpoint from the command line, through the
// same routing (and media stage) as the gateway's POST /v1/describe.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <cstdio>

#include "cli/commands.hpp"
#include "gateway/describe.hpp"
#include "media/local_file.hpp"
#include "media/video.hpp"
#include "routing/describe.hpp"

namespace modelmux::cli {

namespace asio = boost::asio;

void AddDescribeFlags(CLI::App& cmd, DescribeArgs& a) {
  cmd.add_option("media", a.media, "An image or video file, or an http(s) URL")->required();
  cmd.add_option("--task,-t", a.task, "caption | ocr | qa")->capture_default_str();
  cmd.add_option("--question,-q", a.question, "The question (task qa)");
  cmd.add_option("--model,-m", a.model,
                 "Model (default: media.describe_model, or sim/vision with the simulator)");
  cmd.add_option("--language", a.language, "Answer language hint: zh | en")
      ->check(CLI::IsMember({"zh", "en"}));
  cmd.add_option("--max-tokens", a.max_tokens, "Most tokens to generate");
  cmd.add_flag("--video", a.video, "The file is a video (sniffed when not given)");
  cmd.add_flag("--json", a.json, "Print the answer as the /v1/describe JSON");
  cmd.add_option("--config", a.config.config_file, "YAML config file (env MODELMUX_CONFIG)");
}

int RunDescribe(const DescribeArgs& a) {
  auto cfg = LoadConfig(a.config, false);
  if (!cfg.ok()) return Fail(cfg.error());

  routing::DescribeInput in;
  auto task = routing::ParseDescribeTask(a.task);
  if (!task.ok()) return Fail(task.error());
  in.task = *task;
  in.question = a.question;
  in.language = a.language;
  in.max_tokens = a.max_tokens;
  in.model = a.model.empty() ? gateway::DefaultDescribeModel(**cfg) : a.model;
  if (in.model.empty()) {
    return Fail(InvalidRequest("name a model with --model (or set media.describe_model)", "model"));
  }
  // A local file is sniffed: a video is sent as one even without --video.
  bool video = a.video;
  if (!video && !a.media.starts_with("http") && !a.media.starts_with("data:")) {
    auto as_image = media::MediaArgToUrl(a.media, media::MediaArgKind::kImage);
    if (as_image.ok()) {
      in.media = std::move(as_image).value();
    } else if (as_image.error().code == "unsupported_image_format") {
      video = true;
    } else {
      return Fail(as_image.error());
    }
  }
  if (in.media.empty()) {
    auto url = media::MediaArgToUrl(
        a.media, video ? media::MediaArgKind::kVideo : media::MediaArgKind::kImage);
    if (!url.ok()) return Fail(url.error());
    in.media = std::move(url).value();
  }
  in.video = video;
  auto req = routing::BuildDescribeRequest(in);
  if (!req.ok()) return Fail(req.error());

  net::EventLoops loops(1);
  auto rt = Runtime::Start(*cfg, loops);
  if (!rt.ok()) return Fail(rt.error());
  auto router = (*rt)->router();
  RequestContext ctx;
  ctx.request_id = "cli";
  ctx.start = std::chrono::steady_clock::now();
  ctx.deadline = ctx.start + (*cfg)->router.timeout;
  loops.Start();
  routing::AttemptLog log;
  auto fut = asio::co_spawn(loops.loop(0), router->Chat(std::move(req).value(), ctx, {}, &log),
                            asio::use_future);
  auto r = fut.get();
  loops.Stop();
  loops.Join();
  if (!r.ok()) return Fail(r.error());
  const std::string text = r->choices.empty() ? "" : r->choices[0].message.Text();
  if (a.json) {
    boost::json::object o{{"object", "describe"},
                          {"model", r->model.empty() ? in.model : r->model},
                          {"task", routing::DescribeTaskName(in.task)},
                          {"text", text}};
    if (log.media) o["media"] = log.media->Header();
    std::printf("%s\n", boost::json::serialize(o).c_str());
  } else {
    std::printf("%s\n", text.c_str());
  }
  return 0;
}

}  // namespace modelmux::cli
