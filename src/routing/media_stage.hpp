#pragma once
// The media step of one call (docs/MULTIMODAL.md): before an attempt's dialect encodes the
// request, its images and videos are fitted to that attempt's provider (media/prepare.hpp). The
// fitted request is made once per provider type and reused by every retry and fallback to the
// same type, so a retry neither re-encodes nor copies media again.
//
// Large media (docs/MULTIMODAL.md, "Large files"): for providers whose chat API references files
// (Gemini, Anthropic), a part over `media.upload_above_bytes` (default: the provider's inline
// limit, below) -- and, largest first, parts while the request's inline media is over the
// provider's per-request limit -- is uploaded through the provider's file API
// (upstream/file_upload.hpp) once per provider and credential, and the part then carries the
// reference. The rewritten request is kept per provider, so retries reuse the reference.
//
// Memory (docs/MULTIMODAL.md, "Memory"): the stage moves the request's data: URLs out of it for
// its lifetime and gives them back when it ends, so that fitting the request for a provider
// copies no media; a part sent as it came takes the original itself (moved, not copied) into the
// first provider's request that keeps it. The request must not be read elsewhere meanwhile.

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/chat.hpp"
#include "core/request_context.hpp"
#include "core/result.hpp"
#include "media/prepare.hpp"
#include "routing/config.hpp"
#include "routing/dispatch.hpp"

namespace modelmux::routing {

// The request's own image policy: the `image_policy` extension member of `extra` (removed from
// it, so it never goes upstream). Errors: kInvalidRequest naming image_policy.<field>.
[[nodiscard]] Result<std::optional<media::ImagePolicy>> TakeImagePolicy(ChatRequest& request);

// Removes modelmux's request extensions (split_sentences, context, image_policy, cache) from
// `extra`; returns them as a JSON object text ("" when there were none).
std::string TakeExtensions(ChatRequest& request);

// The image policy that applies: media.image_policy, then the alias's, then the request's.
[[nodiscard]] media::ImagePolicy EffectivePolicy(const Config& config, std::string_view model,
                                                 const std::optional<media::ImagePolicy>& req);

[[nodiscard]] media::MediaOptions MediaOptionsFrom(const MediaConfig& media,
                                                   media::ImagePolicy policy);

// Raw bytes above which one media part goes through the file API: media.upload_above_bytes, else
// the provider's default -- Gemini 15,000,000 (its base64 is the 20 MB inline request limit),
// Anthropic 3,932,160 (its base64 is the 5 MiB per-image limit). 0 when `provider_type` has no
// file API or uploads are off.
[[nodiscard]] uint64_t UploadAboveBytes(const MediaConfig& media, std::string_view provider_type);

// Which media parts of `sizes` (raw bytes per inline part, in request order) to upload: those
// over `above`, then the largest others while the inline rest is over `max_inline_total` (0: no
// total limit). Returns indices into `sizes`, in request order. Pure.
[[nodiscard]] std::vector<size_t> PartsToUpload(const std::vector<uint64_t>& sizes, uint64_t above,
                                                uint64_t max_inline_total);

class MediaStage {
 public:
  MediaStage(const Config& config, ChatRequest& request, media::ImagePolicy policy);
  ~MediaStage();
  MediaStage(const MediaStage&) = delete;
  MediaStage& operator=(const MediaStage&) = delete;

  // True when the request has image or video parts (otherwise For() returns the request).
  [[nodiscard]] bool active() const { return active_; }

  // The request to encode for `target`'s provider. Errors: the media's (400s, 413), never
  // retried against another deployment.
  // Uploads (see above) run here, on the first attempt at a provider; `ctx` (may be null) bounds
  // them by the request's deadline. Upload errors are the provider's (retryable as such).
  boost::asio::awaitable<Result<const ChatRequest*>> For(const Target& target,
                                                         const RequestContext* ctx = nullptr);

  // What the last For() did (for the x-modelmux-media header and metrics); null before.
  [[nodiscard]] const media::MediaReport* report() const { return last_; }

 private:
  struct Prepared {
    std::string provider_type;
    ChatRequest request;
    media::MediaReport report;
  };
  // `prepared` with its large parts replaced by file references, for one provider.
  struct Uploaded {
    std::string provider_name;
    ChatRequest request;
  };
  boost::asio::awaitable<Result<const ChatRequest*>> WithUploads(const Target& target,
                                                                 Prepared& prepared,
                                                                 const RequestContext* ctx);
  // One media part of the request: its own `url`, and where the original is meanwhile.
  struct Slot {
    std::string* home = nullptr;  // the part's url in the request
    std::string url;              // the original data: URL while the stage holds it
    std::string* lent = nullptr;  // ...or the prepared request's part it was moved into
  };
  class Sources;

  const Config& config_;
  ChatRequest& request_;
  std::vector<Slot> slots_;
  media::MediaOptions options_;
  bool active_ = false;
  std::vector<std::unique_ptr<Prepared>> prepared_;
  std::vector<std::unique_ptr<Uploaded>> uploaded_;
  const media::MediaReport* last_ = nullptr;
};

}  // namespace modelmux::routing
