// `modelmux chat`: one request from the command line, through the same routing as the gateway.

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>

#include "cli/commands.hpp"
#include "dialects/openai/response.hpp"
#include "media/local_file.hpp"

namespace modelmux::cli {

namespace asio = boost::asio;

void AddChatFlags(CLI::App& cmd, ChatArgs& a) {
  cmd.add_option("--model,-m", a.model, "Model, e.g. sim/echo or openai/gpt-4o-mini")
      ->capture_default_str();
  cmd.add_option("--system,-s", a.system, "System prompt");
  cmd.add_option("--max-tokens", a.max_tokens, "Most tokens to generate");
  cmd.add_option("--temperature", a.temperature, "Sampling temperature")
      ->check(CLI::Range(0.0, 2.0));
  cmd.add_flag("--stream", a.stream, "Print the answer as it arrives");
  cmd.add_flag("--json", a.json, "Print the whole response as OpenAI JSON");
  cmd.add_option("--image,-i", a.images, "An image file or URL to send (repeatable)");
  cmd.add_option("--video", a.videos, "A video file or URL to send (repeatable)");
  cmd.add_option("--detail", a.detail, "Image detail hint")
      ->check(CLI::IsMember({"low", "high", "auto"}));
  cmd.add_flag("--show-media", a.show_media,
               "Print what was done to the media (sizes before and after) on stderr");
  cmd.add_flag("--split-sentences", a.split_sentences,
               "Send the prompt one sentence per line (the split_sentences extension)");
  cmd.add_option("--context", a.context,
                 "Domain context (background, glossary) sent as a system message; @FILE reads "
                 "a file");
  cmd.add_option("--config", a.config.config_file, "YAML config file (env MODELMUX_CONFIG)");
  cmd.add_option("prompt", a.prompt, "The prompt; - reads standard input")->required();
}

int RunChat(const ChatArgs& a) {
  std::string prompt = a.prompt;
  if (prompt == "-") {
    prompt.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  auto cfg = LoadConfig(a.config, false);
  if (!cfg.ok()) return Fail(cfg.error());
  net::EventLoops loops(1);
  auto rt = Runtime::Start(*cfg, loops);
  if (!rt.ok()) return Fail(rt.error());
  auto router = (*rt)->router();

  ChatRequest req;
  req.model = a.model;
  if (!a.system.empty()) {
    Message sys;
    sys.role = Role::kSystem;
    sys.content.push_back({PartType::kText, a.system});
    req.messages.push_back(std::move(sys));
  }
  Message user;
  user.role = Role::kUser;
  user.content.push_back({PartType::kText, prompt});
  auto add_media = [&](const std::string& arg, media::MediaArgKind kind) -> Status {
    MM_TRY(std::string url, media::MediaArgToUrl(arg, kind));
    ContentPart part;
    part.type = kind == media::MediaArgKind::kImage ? PartType::kImage : PartType::kVideo;
    part.url = std::move(url);
    part.detail = a.detail;
    user.content.push_back(std::move(part));
    user.content_is_string = false;
    return OkStatus();
  };
  for (const auto& f : a.images) {
    if (auto st = add_media(f, media::MediaArgKind::kImage); !st.ok()) return Fail(st.error());
  }
  for (const auto& f : a.videos) {
    if (auto st = add_media(f, media::MediaArgKind::kVideo); !st.ok()) return Fail(st.error());
  }
  req.messages.push_back(std::move(user));
  boost::json::object extensions;
  if (a.split_sentences) extensions["split_sentences"] = true;
  if (!a.context.empty()) {
    std::string context = a.context;
    if (context.front() == '@') {
      std::ifstream in(context.substr(1), std::ios::binary);
      if (!in) return Fail(InvalidRequest("cannot read " + context.substr(1), "context"));
      context.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    extensions["context"] = context;
  }
  if (!extensions.empty()) req.extra = boost::json::serialize(extensions);
  req.max_tokens = a.max_tokens;
  req.temperature = a.temperature;
  req.include_usage = true;

  RequestContext ctx;
  ctx.request_id = "cli";
  ctx.start = std::chrono::steady_clock::now();
  ctx.deadline = ctx.start + (*cfg)->router.timeout;
  loops.Start();

  int code = 0;
  if (a.stream) {
    auto fut =
        asio::co_spawn(loops.loop(0),
                       router->ChatStream(req, ctx,
                                          [&](const StreamEvent& ev) -> Status {
                                            for (const auto& d : ev.deltas) {
                                              std::fwrite(d.text.data(), 1, d.text.size(), stdout);
                                            }
                                            std::fflush(stdout);
                                            return OkStatus();
                                          }),
                       asio::use_future);
    auto r = fut.get();
    std::printf("\n");
    if (!r.ok()) code = Fail(r.error());
  } else {
    routing::AttemptLog log;
    auto fut = asio::co_spawn(loops.loop(0), router->Chat(req, ctx, {}, &log), asio::use_future);
    auto r = fut.get();
    if (a.show_media && log.media) std::fprintf(stderr, "media: %s\n", log.media->Header().c_str());
    if (!r.ok()) {
      code = Fail(r.error());
    } else if (a.json) {
      std::printf("%s\n", dialects::openai::EncodeChatResponse(*r).c_str());
    } else {
      std::string text = r->choices.empty() ? "" : r->choices[0].message.Text();
      std::printf("%s\n", text.c_str());
    }
  }
  loops.Stop();
  loops.Join();
  return code;
}

}  // namespace modelmux::cli
