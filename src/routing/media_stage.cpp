#include "routing/media_stage.hpp"

#include <boost/asio/this_coro.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <numeric>

#include "media/address_policy.hpp"
#include "media/base64.hpp"
#include "media/limits.hpp"
#include "upstream/file_upload.hpp"
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

bool HasFileApi(std::string_view type) {
  return type == "gemini" || type == "anthropic";
}

// The provider's inline media limit per request, in raw bytes (0: none known).
uint64_t InlineTotalLimit(std::string_view type) {
  const media::ImageLimits& l = media::ImageLimitsFor(type);
  // Gemini's 20 MB is the request's inline data, i.e. base64: 3/4 of it in raw bytes.
  if (type == "gemini") return static_cast<uint64_t>(l.max_total_bytes) / 4 * 3;
  return l.max_total_bytes;
}

// A media part carried inline: where it is and its payload.
struct InlinePart {
  size_t message = 0;
  size_t part = 0;
  std::string_view mime;
  std::string_view payload;  // base64
};

std::vector<InlinePart> InlineParts(const ChatRequest& r) {
  std::vector<InlinePart> out;
  for (size_t i = 0; i < r.messages.size(); ++i) {
    const auto& content = r.messages[i].content;
    for (size_t j = 0; j < content.size(); ++j) {
      const ContentPart& p = content[j];
      if (p.type != PartType::kImage && p.type != PartType::kVideo) continue;
      auto d = media::ParseDataUrl(p.url);
      if (!d) continue;
      out.push_back({i, j, d->mime.empty() ? std::string_view(p.mime_type) : d->mime, d->payload});
    }
  }
  return out;
}

uint64_t RawSize(std::string_view base64) {
  uint64_t n = base64.size() / 4 * 3;
  if (base64.ends_with("==")) return n - 2;
  if (base64.ends_with("=")) return n - 1;
  return n;
}

}  // namespace

uint64_t UploadAboveBytes(const MediaConfig& media, std::string_view type) {
  if (!media.upload || !HasFileApi(type)) return 0;
  if (media.upload_above_bytes) return *media.upload_above_bytes;
  if (type == "gemini") return InlineTotalLimit(type);
  return media::ImageLimitsFor(type).max_bytes;
}

std::vector<size_t> PartsToUpload(const std::vector<uint64_t>& sizes, uint64_t above,
                                  uint64_t max_inline_total) {
  std::vector<bool> upload(sizes.size(), false);
  uint64_t inline_total = 0;
  for (size_t i = 0; i < sizes.size(); ++i) {
    upload[i] = sizes[i] > above;
    if (!upload[i]) inline_total += sizes[i];
  }
  if (max_inline_total > 0 && inline_total > max_inline_total) {
    std::vector<size_t> order(sizes.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&sizes](size_t a, size_t b) { return sizes[a] > sizes[b]; });
    for (size_t i : order) {
      if (inline_total <= max_inline_total) break;
      if (upload[i]) continue;
      upload[i] = true;
      inline_total -= sizes[i];
    }
  }
  std::vector<size_t> out;
  for (size_t i = 0; i < sizes.size(); ++i) {
    if (upload[i]) out.push_back(i);
  }
  return out;
}

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

MediaStage::MediaStage(const Config& config, ChatRequest& request, media::ImagePolicy policy)
    : config_(config),
      request_(request),
      options_(MediaOptionsFrom(config.media, std::move(policy))),
      active_(media::HasMedia(request)) {
  if (!active_) return;
  for (Message& m : request_.messages) {
    for (ContentPart& p : m.content) {
      if (p.type != PartType::kImage && p.type != PartType::kVideo) continue;
      Slot& slot = slots_.emplace_back();
      slot.home = &p.url;
      if (p.url.starts_with("data:")) {
        slot.url = std::move(p.url);
        p.url.clear();
      }
    }
  }
}

MediaStage::~MediaStage() {
  for (Slot& slot : slots_) {
    if (slot.lent != nullptr) {
      *slot.home = std::move(*slot.lent);
    } else if (!slot.url.empty()) {
      *slot.home = std::move(slot.url);
    }
  }
}

// The originals while one request is prepared (media/prepare.hpp, MediaSources).
class MediaStage::Sources final : public media::MediaSources {
 public:
  explicit Sources(std::vector<Slot>& slots) : slots_(slots) {}

  std::string_view Url(size_t n) const override {
    if (n >= slots_.size()) return {};
    const Slot& slot = slots_[n];
    return slot.lent != nullptr ? std::string_view(*slot.lent) : std::string_view(slot.url);
  }
  void Keep(size_t n, std::string& at) override {
    if (n < slots_.size()) kept_.emplace_back(n, &at);
  }
  // After PrepareMedia succeeded: the parts sent as they came get their URL.
  void Fill() {
    for (auto [n, at] : kept_) {
      Slot& slot = slots_[n];
      if (slot.lent == nullptr) {
        // The first provider that sends it as it came takes the original itself.
        *at = std::move(slot.url);
        slot.url.clear();
        slot.lent = at;
      } else {
        *at = *slot.lent;  // a second provider type sending it unchanged: its own copy
      }
    }
    kept_.clear();
  }

 private:
  std::vector<Slot>& slots_;
  std::vector<std::pair<size_t, std::string*>> kept_;
};

boost::asio::awaitable<Result<const ChatRequest*>> MediaStage::For(const Target& target,
                                                                   const RequestContext* ctx) {
  if (!active_) co_return &request_;
  const std::string& type = target.provider->spec().type;
  Prepared* found = nullptr;
  for (const auto& p : prepared_) {
    if (p->provider_type == type) found = p.get();
  }
  if (found == nullptr) {
    auto prepared = std::make_unique<Prepared>();
    prepared->provider_type = type;
    prepared->request = request_;
    std::optional<media::Fetcher> fetcher;
    if (config_.media.fetch) {
      auto policy = media::AddressPolicy::WithAllowList(config_.media.fetch_allow);
      if (!policy.ok()) co_return AsRequestError(std::move(policy).error());
      fetcher.emplace(co_await boost::asio::this_coro::executor, std::move(policy).value());
    }
    media::MediaTarget media_target = media::MediaTargetFor(type);
    // With a file API, a native video too large to send inline goes up as a file instead.
    if (media_target.native_video && UploadAboveBytes(config_.media, type) > 0 &&
        upstream::SupportsFileUpload(*target.provider)) {
      media_target.max_inline_video_bytes = 2ull << 30;  // Gemini's limit per file
    }
    Sources sources(slots_);
    auto report = co_await media::PrepareMedia(prepared->request, media_target, options_,
                                               fetcher ? &*fetcher : nullptr, &sources);
    if (report.ok()) sources.Fill();
    if (!report.ok()) co_return AsRequestError(std::move(report).error());
    prepared->report = std::move(report).value();
    prepared_.push_back(std::move(prepared));
    found = prepared_.back().get();
  }
  last_ = &found->report;
  if (UploadAboveBytes(config_.media, type) == 0 ||
      !upstream::SupportsFileUpload(*target.provider)) {
    co_return &found->request;
  }
  co_return co_await WithUploads(target, *found, ctx);
}

boost::asio::awaitable<Result<const ChatRequest*>> MediaStage::WithUploads(
    const Target& target, Prepared& prepared, const RequestContext* ctx) {
  const upstream::Provider& provider = *target.provider;
  for (const auto& u : uploaded_) {
    if (u->provider_name == provider.spec().name) co_return &u->request;
  }
  const std::string& type = provider.spec().type;
  const std::vector<InlinePart> parts = InlineParts(prepared.request);
  std::vector<uint64_t> sizes;
  sizes.reserve(parts.size());
  for (const auto& p : parts) sizes.push_back(RawSize(p.payload));
  const std::vector<size_t> chosen =
      PartsToUpload(sizes, UploadAboveBytes(config_.media, type), InlineTotalLimit(type));
  if (chosen.empty()) co_return &prepared.request;

  upstream::UploadOptions options;
  options.chunk_bytes = config_.media.upload_chunk_bytes;
  options.poll_timeout = config_.media.upload_poll_timeout;
  auto& cache = upstream::FileRefCache::Shared();
  std::vector<std::pair<size_t, upstream::FileRef>> refs;  // index into `parts`
  for (size_t k : chosen) {
    const InlinePart& part = parts[k];
    // The one transient copy an upload needs: the decoded bytes, freed after the upload.
    media::Base64DecodeOptions decode;
    decode.lenient = true;
    auto bytes = media::Base64Decode(part.payload, decode);
    if (!bytes.ok()) co_return AsRequestError(std::move(bytes).error());
    const std::string key = upstream::FileRefCache::Key(provider, *bytes);
    if (auto hit = cache.Get(key)) {
      refs.emplace_back(k, std::move(*hit));
      continue;
    }
    std::string name = "modelmux-" + key.substr(key.size() - 16);
    auto ref = co_await upstream::UploadFile(provider, *bytes, std::string(part.mime),
                                             std::move(name), options, ctx);
    if (!ref.ok()) co_return std::move(ref).error();
    cache.Put(key, *ref, config_.media.upload_ttl);
    refs.emplace_back(k, std::move(ref).value());
  }

  // The rewritten request, built without copying the media that is replaced: messages are copied
  // one part at a time, and a part that now references a file never copies its data: URL.
  auto uploaded = std::make_unique<Uploaded>();
  uploaded->provider_name = provider.spec().name;
  ChatRequest& out = uploaded->request;
  {
    // Every field but the messages (moved aside for the copy; no suspension in between).
    std::vector<Message> messages = std::move(prepared.request.messages);
    out = prepared.request;
    prepared.request.messages = std::move(messages);
  }
  out.messages.reserve(prepared.request.messages.size());
  for (size_t i = 0; i < prepared.request.messages.size(); ++i) {
    Message& m = prepared.request.messages[i];
    std::vector<ContentPart> content = std::move(m.content);
    Message copy = m;
    m.content = std::move(content);
    copy.content.reserve(m.content.size());
    for (size_t j = 0; j < m.content.size(); ++j) {
      const ContentPart& p = m.content[j];
      auto ref = std::find_if(refs.begin(), refs.end(), [&](const auto& r) {
        return parts[r.first].message == i && parts[r.first].part == j;
      });
      if (ref == refs.end()) {
        copy.content.push_back(p);
        continue;
      }
      ContentPart part;
      part.type = p.type;
      part.detail = p.detail;
      part.url = ref->second.reference;
      part.mime_type = ref->second.mime_type.empty() ? std::string(parts[ref->first].mime)
                                                     : ref->second.mime_type;
      copy.content.push_back(std::move(part));
    }
    out.messages.push_back(std::move(copy));
  }
  uploaded_.push_back(std::move(uploaded));
  co_return &uploaded_.back()->request;
}

}  // namespace modelmux::routing
