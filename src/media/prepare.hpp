#pragma once
// The media stage of a chat call: fits every image and video part of a request to what one
// upstream accepts, before its dialect encodes the request. For each part:
//
//   image, data: URL    decoded, normalised to the provider's limits and the image policy
//                       (media/image.hpp); left byte-for-byte as it is when it already fits
//   image, http(s) URL  passed through where the provider fetches URLs itself, else fetched by
//                       the SSRF-safe fetcher (media/fetcher.hpp) and then treated as data
//   video               kept for providers with native video input (Gemini, Qwen-VL), else
//                       replaced by frames sampled with FFmpeg (media/video.hpp), each preceded
//                       by a text part with its timestamp
//
// Local file paths are never read here: the CLI and the SDK turn them into data: URLs before a
// request is built, and the gateway refuses anything that is not a data: or http(s) URL.

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <string>

#include "core/chat.hpp"
#include "core/result.hpp"
#include "media/fetcher.hpp"
#include "media/image.hpp"
#include "media/video.hpp"

namespace modelmux::media {

// What one upstream takes.
struct MediaTarget {
  std::string provider_type;  // "openai", "anthropic", ... (the key of ImageLimitsFor)
  ImageLimits limits;
  bool fetches_image_urls = false;  // the provider downloads http(s) image URLs itself
  bool native_video = false;        // video parts are sent as video
  bool fetches_video_urls = false;  // ...and by URL, downloaded by the provider
  uint64_t max_inline_video_bytes = 20ull << 20;  // native video sent inline, at most
};

// The media facts of a provider type (limits from ImageLimitsFor).
[[nodiscard]] MediaTarget MediaTargetFor(std::string_view provider_type);

struct MediaOptions {
  ImagePolicy policy;         // config default, then the model's, then the request's
  SampleOptions video;        // frames for providers without video input
  bool always_fetch = false;  // fetch URLs here even where the provider could
  FetchOptions fetch;
};

struct MediaReport {
  int images = 0;             // image parts sent (frames included)
  int videos = 0;             // video parts received
  int frames = 0;             // frames sampled from videos
  int fetched = 0;            // URLs downloaded by the gateway
  int reencoded = 0;          // images resized or re-encoded
  int passed_urls = 0;        // URLs left for the provider to fetch
  uint64_t bytes_before = 0;  // media bytes as received (fetched bytes included)
  uint64_t bytes_after = 0;   // media bytes as sent (passed URLs count 0 on both sides)

  // "images=2; reencoded=1; bytes_before=4812345; bytes_after=301234" (the x-modelmux-media
  // response header); fields that are 0 are left out, except the two byte counts.
  [[nodiscard]] std::string Header() const;
};

// True when some message has an image or video part.
[[nodiscard]] bool HasMedia(const ChatRequest& request);

// Where the URLs of a request's media parts are kept while it is prepared, when not in the parts
// themselves. A request fitted for several providers keeps one copy of each original (see
// routing/media_stage.hpp): the request given to PrepareMedia then has its data: media parts
// with an empty `url`, and the n-th media part (image or video, request order) reads it here.
class MediaSources {
 public:
  virtual ~MediaSources() = default;
  // The URL of the n-th media part.
  [[nodiscard]] virtual std::string_view Url(size_t n) const = 0;
  // The n-th media part is sent as it came: `at` (the part's `url` in the prepared request, left
  // empty) is to receive the original URL. Called after the part is in its final place; the
  // owner fills `at` once PrepareMedia has succeeded (moving the original in when it can).
  virtual void Keep(size_t n, std::string& at) = 0;
};

// Rewrites the request's image and video parts for `target`. `fetcher` may be null when URLs
// must not be fetched (a URL the provider cannot take is then refused). Errors name the part
// ("messages[0].content[1].image_url"): kInvalidRequest (unreadable, unsupported, too many
// images, forbidden URL), kPayloadTooLarge (a download over the cap), kTimeout (a download).
// `sources` (may be null) holds the URLs of media parts whose `url` is empty (see above).
boost::asio::awaitable<Result<MediaReport>> PrepareMedia(ChatRequest& request,
                                                         const MediaTarget& target,
                                                         const MediaOptions& options,
                                                         Fetcher* fetcher,
                                                         MediaSources* sources = nullptr);

// "data:<mime>;base64,<payload>" -> (mime, payload view). nullopt for anything else.
struct DataUrl {
  std::string_view mime;
  std::string_view payload;
};
[[nodiscard]] std::optional<DataUrl> ParseDataUrl(std::string_view url);
[[nodiscard]] std::string MakeDataUrl(std::string_view mime, std::string_view bytes);

}  // namespace modelmux::media
