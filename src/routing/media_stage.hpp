#pragma once
// The media step of one call (docs/MULTIMODAL.md): before an attempt's dialect encodes the
// request, its images and videos are fitted to that attempt's provider (media/prepare.hpp). The
// fitted request is made once per provider type and reused by every retry and fallback to the
// same type, so a retry neither re-encodes nor copies media again.

#include <boost/asio/awaitable.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/chat.hpp"
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

class MediaStage {
 public:
  MediaStage(const Config& config, const ChatRequest& request, media::ImagePolicy policy);

  // True when the request has image or video parts (otherwise For() returns the request).
  [[nodiscard]] bool active() const { return active_; }

  // The request to encode for `target`'s provider. Errors: the media's (400s, 413), never
  // retried against another deployment.
  boost::asio::awaitable<Result<const ChatRequest*>> For(const Target& target);

  // What the last For() did (for the x-modelmux-media header and metrics); null before.
  [[nodiscard]] const media::MediaReport* report() const { return last_; }

 private:
  struct Prepared {
    std::string provider_type;
    ChatRequest request;
    media::MediaReport report;
  };
  const Config& config_;
  const ChatRequest& request_;
  media::MediaOptions options_;
  bool active_ = false;
  std::vector<std::unique_ptr<Prepared>> prepared_;
  const media::MediaReport* last_ = nullptr;
};

}  // namespace modelmux::routing
