#include "routing/media_stage.hpp"

#include <boost/asio/this_coro.hpp>
#include <boost/json.hpp>

#include "media/address_policy.hpp"
#include "upstream/provider.hpp"

namespace modelmux::routing {
namespace json = boost::json;

namespace {

constexpr std::string_view kExtensionKeys[] = {"split_sentences", "context", "image_policy",
                                               "cache"};

// A media failure is the request's (a URL that cannot be fetched, an unreadable image), never
// the provider's: it must not be retried elsewhere nor count against a deployment's health.
Error AsRequestError(Error e) {
  if (e.kind == ErrorKind::kTimeout || e.kind == ErrorKind::kUpstreamError ||
      e.kind == ErrorKind::kUnavailable) {
    e.kind = ErrorKind::kInvalidRequest;
  }
  e.should_retry = false;
  e.upstream_status = 0;  // the status of a media host, not of the provider
  e.provider.clear();
  return e;
}

}  // namespace

std::string TakeExtensions(ChatRequest& request) {
  if (request.extra.empty()) return {};
  boost::system::error_code ec;
  json::value v = json::parse(request.extra, ec);
  if (ec || !v.is_object()) return {};
  json::object& extra = v.get_object();
  json::object taken;
  for (auto key : kExtensionKeys) {
    if (auto it = extra.find(key); it != extra.end()) {
      taken[key] = it->value();
      extra.erase(it);
    }
  }
  if (taken.empty()) return {};
  request.extra = extra.empty() ? std::string() : json::serialize(extra);
  return json::serialize(taken);
}

Result<std::optional<media::ImagePolicy>> TakeImagePolicy(ChatRequest& request) {
  const std::string taken = TakeExtensions(request);
  if (taken.empty()) return std::optional<media::ImagePolicy>();
  boost::system::error_code ec;
  json::value v = json::parse(taken, ec);
  const json::value* p = ec ? nullptr : v.get_object().if_contains("image_policy");
  if (p == nullptr) return std::optional<media::ImagePolicy>();
  if (!p->is_object()) {
    Error e = InvalidRequest("image_policy must be an object", "image_policy");
    e.code = "invalid_type";
    return e;
  }
  MM_TRY(media::ImagePolicy policy, media::ParseImagePolicy(json::serialize(*p)));
  return std::optional<media::ImagePolicy>(std::move(policy));
}

media::ImagePolicy EffectivePolicy(const Config& config, std::string_view model,
                                   const std::optional<media::ImagePolicy>& req) {
  media::ImagePolicy p = config.media.image_policy;
  if (const ModelAlias* alias = config.FindAlias(model); alias && alias->image_policy) {
    p = media::MergePolicy(p, *alias->image_policy);
  }
  if (req) p = media::MergePolicy(p, *req);
  return p;
}

media::MediaOptions MediaOptionsFrom(const MediaConfig& m, media::ImagePolicy policy) {
  media::MediaOptions o;
  o.policy = std::move(policy);
  o.always_fetch = m.always_fetch;
  o.fetch.max_bytes = m.max_fetch_bytes;
  o.fetch.total_timeout = m.fetch_timeout;
  o.fetch.max_redirects = static_cast<int>(m.max_redirects);
  o.video.max_frames = static_cast<int>(m.video_max_frames);
  o.video.fps = m.video_fps;
  o.video.mode = m.video_scene_changes ? media::SampleMode::kScene : media::SampleMode::kEven;
  o.video.max_side = static_cast<int>(m.video_frame_max_side);
  o.video.max_duration_s = static_cast<double>(m.video_max_duration.count()) / 1000.0;
  return o;
}

MediaStage::MediaStage(const Config& config, const ChatRequest& request, media::ImagePolicy policy)
    : config_(config),
      request_(request),
      options_(MediaOptionsFrom(config.media, std::move(policy))),
      active_(media::HasMedia(request)) {}

boost::asio::awaitable<Result<const ChatRequest*>> MediaStage::For(const Target& target) {
  if (!active_) co_return &request_;
  const std::string& type = target.provider->spec().type;
  for (const auto& p : prepared_) {
    if (p->provider_type == type) {
      last_ = &p->report;
      co_return &p->request;
    }
  }
  auto prepared = std::make_unique<Prepared>();
  prepared->provider_type = type;
  prepared->request = request_;
  std::optional<media::Fetcher> fetcher;
  if (config_.media.fetch) {
    auto policy = media::AddressPolicy::WithAllowList(config_.media.fetch_allow);
    if (!policy.ok()) co_return AsRequestError(std::move(policy).error());
    fetcher.emplace(co_await boost::asio::this_coro::executor, std::move(policy).value());
  }
  const media::MediaTarget media_target = media::MediaTargetFor(type);
  auto report = co_await media::PrepareMedia(prepared->request, media_target, options_,
                                             fetcher ? &*fetcher : nullptr);
  if (!report.ok()) co_return AsRequestError(std::move(report).error());
  prepared->report = std::move(report).value();
  last_ = &prepared->report;
  prepared_.push_back(std::move(prepared));
  co_return &prepared_.back()->request;
}

}  // namespace modelmux::routing
