#include "media/prepare.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <thread>
#include <utility>

#include "media/base64.hpp"
#include "media/limits.hpp"

namespace modelmux::media {
namespace {

// Decoding, resizing and frame sampling take milliseconds to seconds of CPU: they run on this
// pool, never on an event loop, and the calling coroutine resumes on its own executor.
boost::asio::thread_pool& MediaPool() {
  static boost::asio::thread_pool pool(std::max(2u, std::thread::hardware_concurrency()));
  return pool;
}

template <class T>
boost::asio::awaitable<T> Invoke(std::function<T()> fn) {
  co_return fn();
}

template <class T>
boost::asio::awaitable<T> OffLoop(std::function<T()> fn) {
  co_return co_await boost::asio::co_spawn(MediaPool().get_executor(), Invoke<T>(std::move(fn)),
                                           boost::asio::use_awaitable);
}

bool IsHttpUrl(std::string_view url) {
  return url.starts_with("http://") || url.starts_with("https://");
}

std::string PartParam(size_t i, size_t j, std::string_view field) {
  return "messages[" + std::to_string(i) + "].content[" + std::to_string(j) + "]." +
         std::string(field);
}

Error Bad(std::string message, std::string param, std::string code) {
  Error e = InvalidRequest(std::move(message), std::move(param));
  e.code = std::move(code);
  return e;
}

// Where a part's bytes come from.
struct Source {
  std::string bytes;  // decoded or fetched
  bool from_data = false;
  bool fetched = false;
};

// One media part being prepared: the part, its place among the request's media parts, and where
// its URL is (in the part, or kept by `sources` while the part's own `url` is empty).
struct PartRef {
  ContentPart& part;
  size_t n = 0;
  MediaSources* sources = nullptr;
  bool kept = false;  // the part is sent with the URL kept in `sources` (filled in later)

  [[nodiscard]] bool Borrowed() const { return sources != nullptr && part.url.empty(); }
  [[nodiscard]] std::string_view Url() const { return Borrowed() ? sources->Url(n) : part.url; }
  // The part keeps the URL it came with: when that is kept in `sources`, its owner puts it in.
  void KeepUrl() { kept = Borrowed(); }
};

boost::asio::awaitable<Result<Source>> LoadBytes(std::string_view url, bool is_video,
                                                 const MediaOptions& options, Fetcher* fetcher,
                                                 const std::string& param) {
  Source src;
  if (auto data = ParseDataUrl(url)) {
    Base64DecodeOptions opts;
    opts.lenient = true;
    opts.param = param;
    MM_CO_TRY(src.bytes, Base64Decode(data->payload, opts));
    src.from_data = true;
    co_return src;
  }
  if (!IsHttpUrl(url)) {
    co_return Bad(std::string(is_video ? "Video" : "Image") +
                      " URLs must be http(s) URLs or base64 data: URLs.",
                  param, is_video ? "invalid_video_url" : "invalid_image_url");
  }
  if (fetcher == nullptr) {
    co_return Bad(
        "This provider cannot download media URLs, and fetching them in the gateway is "
        "off; send the media inline as a base64 data: URL.",
        param, "media_url_not_fetched");
  }
  FetchOptions fetch = options.fetch;
  if (is_video) {
    fetch.magic_check = [](std::string_view first) { return LooksLikeVideo(first); };
  } else {
    fetch.magic_check = [](std::string_view first) {
      return SniffImageFormat(first) != ImageFormat::kUnknown;
    };
  }
  MM_CO_TRY(Fetched got, co_await fetcher->Fetch(std::string(url), std::move(fetch), param));
  src.bytes = std::move(got.body);
  src.fetched = true;
  co_return src;
}

ImagePolicy PolicyFor(const ContentPart& part, const ImagePolicy& base) {
  ImagePolicy p = base;
  if (p.detail.empty() || !part.detail.empty()) {
    if (!part.detail.empty()) p.detail = part.detail;
  }
  return p;
}

// Fits one image part; `part.url` is replaced only when the bytes changed or were fetched.
boost::asio::awaitable<Status> FitImage(PartRef& ref, const MediaTarget& target,
                                        const MediaOptions& options, Fetcher* fetcher,
                                        const std::string& param, MediaReport& report) {
  ContentPart& part = ref.part;
  ++report.images;
  const bool keep_url = IsHttpUrl(ref.Url()) && target.fetches_image_urls && !options.always_fetch;
  if (keep_url) {
    if (ref.Borrowed()) part.url = std::string(ref.Url());
    ++report.passed_urls;
    co_return OkStatus();
  }
  MM_CO_TRY(Source src, co_await LoadBytes(ref.Url(), false, options, fetcher, param));
  if (src.fetched) ++report.fetched;
  report.bytes_before += src.bytes.size();
  const ImagePolicy policy = PolicyFor(part, options.policy);
  MM_CO_TRY(NormalizedImage n, co_await OffLoop<Result<NormalizedImage>>([&] {
              return NormalizeImage(src.bytes, target.limits, policy, param);
            }));
  if (!n.changed) {
    report.bytes_after += src.bytes.size();
    part.mime_type = std::string(ImageMime(n.format_before));
    // A data: URL that already fits is sent as it is (only a wrong media type in its head is
    // corrected, in place); a fetched one is inlined.
    if (src.fetched) {
      part.url = MakeDataUrl(part.mime_type, src.bytes);
    } else if (auto d = ParseDataUrl(ref.Url()); d && d->mime != part.mime_type) {
      if (ref.Borrowed()) {
        part.url = "data:" + part.mime_type + ";base64," + std::string(d->payload);
      } else {
        const size_t head = static_cast<size_t>(d->payload.data() - part.url.data());
        part.url.replace(0, head, "data:" + part.mime_type + ";base64,");
      }
    } else {
      ref.KeepUrl();
    }
    co_return OkStatus();
  }
  ++report.reencoded;
  report.bytes_after += n.bytes.size();
  part.mime_type = std::string(ImageMime(n.format));
  part.url = MakeDataUrl(part.mime_type, n.bytes);
  co_return OkStatus();
}

// A video for a provider that takes video: checked, sent inline or by URL.
boost::asio::awaitable<Status> KeepVideo(PartRef& ref, const MediaTarget& target,
                                         const MediaOptions& options, Fetcher* fetcher,
                                         const std::string& param, MediaReport& report) {
  ContentPart& part = ref.part;
  if (IsHttpUrl(ref.Url()) && target.fetches_video_urls && !options.always_fetch) {
    if (ref.Borrowed()) part.url = std::string(ref.Url());
    ++report.passed_urls;
    co_return OkStatus();
  }
  MM_CO_TRY(Source src, co_await LoadBytes(ref.Url(), true, options, fetcher, param));
  if (src.fetched) ++report.fetched;
  report.bytes_before += src.bytes.size();
  MM_CO_TRY(VideoInfo info,
            co_await OffLoop<Result<VideoInfo>>([&] { return ProbeVideo(src.bytes); }));
  if (target.max_inline_video_bytes != 0 && src.bytes.size() > target.max_inline_video_bytes) {
    Error e =
        Bad("The video is " + std::to_string(src.bytes.size()) + " bytes; " + target.provider_type +
                " takes at most " + std::to_string(target.max_inline_video_bytes) +
                " bytes inline. Send it by URL, or let the gateway sample frames.",
            param, "video_too_large");
    e.kind = ErrorKind::kPayloadTooLarge;
    co_return e;
  }
  report.bytes_after += src.bytes.size();
  part.mime_type = info.mime;
  if (src.fetched || part.mime_type != ParseDataUrl(ref.Url()).value_or(DataUrl{}).mime) {
    part.url = MakeDataUrl(part.mime_type, src.bytes);
  } else {
    ref.KeepUrl();
  }
  co_return OkStatus();
}

// A video for a provider without video input: frames, each labelled with its time.
boost::asio::awaitable<Result<std::vector<ContentPart>>> VideoFrames(const PartRef& ref,
                                                                     const MediaOptions& options,
                                                                     Fetcher* fetcher,
                                                                     const std::string& param,
                                                                     MediaReport& report) {
  const ContentPart& part = ref.part;
  MM_CO_TRY(Source src, co_await LoadBytes(ref.Url(), true, options, fetcher, param));
  if (src.fetched) ++report.fetched;
  report.bytes_before += src.bytes.size();
  auto sampled = co_await OffLoop<Result<SampledVideo>>(
      [&] { return SampleFrames(src.bytes, options.video); });
  if (!sampled.ok()) {
    Error e = std::move(sampled).error();
    e.param = param;
    co_return e;
  }
  std::vector<ContentPart> parts;
  ContentPart intro;
  intro.type = PartType::kText;
  char duration[32];
  std::snprintf(duration, sizeof duration, "%.1f", sampled->info.duration_s);
  intro.text = "[video: " + std::string(duration) + " s, " +
               std::to_string(sampled->frames.size()) + " frames sampled]";
  parts.push_back(std::move(intro));
  for (const VideoFrame& f : sampled->frames) {
    ContentPart label;
    label.type = PartType::kText;
    label.text = FrameLabel(f.timestamp_s);
    parts.push_back(std::move(label));
    ContentPart image;
    image.type = PartType::kImage;
    image.mime_type = "image/jpeg";
    image.detail = part.detail;
    image.url = MakeDataUrl(image.mime_type, f.jpeg);
    report.bytes_after += f.jpeg.size();
    parts.push_back(std::move(image));
  }
  report.frames += static_cast<int>(sampled->frames.size());
  report.images += static_cast<int>(sampled->frames.size());
  co_return parts;
}

}  // namespace

std::optional<DataUrl> ParseDataUrl(std::string_view url) {
  if (!url.starts_with("data:")) return std::nullopt;
  const size_t comma = url.find(',');
  if (comma == std::string_view::npos) return std::nullopt;
  std::string_view head = url.substr(5, comma - 5);
  constexpr std::string_view kBase64 = ";base64";
  if (head.size() < kBase64.size() || head.substr(head.size() - kBase64.size()) != kBase64) {
    return std::nullopt;
  }
  DataUrl d;
  d.mime = head.substr(0, head.size() - kBase64.size());
  if (auto semi = d.mime.find(';'); semi != std::string_view::npos) d.mime = d.mime.substr(0, semi);
  d.payload = url.substr(comma + 1);
  return d;
}

std::string MakeDataUrl(std::string_view mime, std::string_view bytes) {
  std::string out;
  out.reserve(5 + mime.size() + 8 + Base64EncodedSize(bytes.size()));
  out.append("data:").append(mime).append(";base64,");
  const size_t at = out.size();
  out.resize(at + Base64EncodedSize(bytes.size()));
  Base64EncodeTo(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), out.data() + at);
  return out;
}

MediaTarget MediaTargetFor(std::string_view type) {
  MediaTarget t;
  t.provider_type = std::string(type);
  t.limits = ImageLimitsFor(type);
  // Providers documented to download http(s) image URLs themselves.
  t.fetches_image_urls = type == "openai" || type == "azure" || type == "anthropic" ||
                         type == "dashscope" || type == "zhipu" || type == "hunyuan" ||
                         type == "vllm";
  // Video input: Gemini (inline or File API) and Qwen-VL (by URL, or inline under 10 MB).
  if (type == "gemini") {
    t.native_video = true;
    t.max_inline_video_bytes = 20ull << 20;
  } else if (type == "dashscope") {
    t.native_video = true;
    t.fetches_video_urls = true;
    t.max_inline_video_bytes = 10ull << 20;
  }
  return t;
}

std::string MediaReport::Header() const {
  std::string h;
  auto add = [&](std::string_view name, uint64_t v, bool always = false) {
    if (v == 0 && !always) return;
    if (!h.empty()) h += "; ";
    h.append(name).append("=").append(std::to_string(v));
  };
  add("images", static_cast<uint64_t>(images));
  add("videos", static_cast<uint64_t>(videos));
  add("frames", static_cast<uint64_t>(frames));
  add("fetched", static_cast<uint64_t>(fetched));
  add("reencoded", static_cast<uint64_t>(reencoded));
  add("urls", static_cast<uint64_t>(passed_urls));
  add("bytes_before", bytes_before, true);
  add("bytes_after", bytes_after, true);
  return h;
}

bool HasMedia(const ChatRequest& request) {
  for (const Message& m : request.messages) {
    for (const ContentPart& p : m.content) {
      if (p.type == PartType::kImage || p.type == PartType::kVideo) return true;
    }
  }
  return false;
}

boost::asio::awaitable<Result<MediaReport>> PrepareMedia(ChatRequest& request,
                                                         const MediaTarget& target,
                                                         const MediaOptions& options,
                                                         Fetcher* fetcher, MediaSources* sources) {
  MediaReport report;
  size_t n = 0;  // media parts so far
  for (size_t i = 0; i < request.messages.size(); ++i) {
    Message& m = request.messages[i];
    bool has_media = false;
    for (const ContentPart& p : m.content) {
      has_media = has_media || p.type == PartType::kImage || p.type == PartType::kVideo;
    }
    if (!has_media) continue;
    std::vector<ContentPart> out;
    out.reserve(m.content.size());
    std::vector<std::pair<size_t, size_t>> kept;  // (media part, index in `out`)
    for (size_t j = 0; j < m.content.size(); ++j) {
      ContentPart& part = m.content[j];
      if (part.type == PartType::kImage) {
        const std::string param = PartParam(i, j, "image_url");
        PartRef ref{part, n++, sources};
        MM_CO_RETURN_IF_ERROR(co_await FitImage(ref, target, options, fetcher, param, report));
        if (ref.kept) kept.emplace_back(ref.n, out.size());
        out.push_back(std::move(part));
      } else if (part.type == PartType::kVideo) {
        ++report.videos;
        const std::string param = PartParam(i, j, "video_url");
        PartRef ref{part, n++, sources};
        if (target.native_video) {
          MM_CO_RETURN_IF_ERROR(co_await KeepVideo(ref, target, options, fetcher, param, report));
          if (ref.kept) kept.emplace_back(ref.n, out.size());
          out.push_back(std::move(part));
        } else {
          MM_CO_TRY(std::vector<ContentPart> frames,
                    co_await VideoFrames(ref, options, fetcher, param, report));
          for (auto& f : frames) out.push_back(std::move(f));
        }
      } else {
        out.push_back(std::move(part));
      }
    }
    m.content = std::move(out);
    m.content_is_string = false;
    // The parts are in their final place now: say which take their original URL.
    for (const auto& [media_index, k] : kept) sources->Keep(media_index, m.content[k].url);
  }
  if (target.limits.max_images > 0 && report.images > target.limits.max_images) {
    co_return Bad("The request has " + std::to_string(report.images) +
                      " images (video frames "
                      "included); " +
                      target.provider_type + " takes at most " +
                      std::to_string(target.limits.max_images) + " per request.",
                  "messages", "too_many_images");
  }
  co_return report;
}

}  // namespace modelmux::media
