#include "routing/config_media.hpp"

#include "media/address_policy.hpp"

namespace modelmux::routing::config_detail {

void ParseImagePolicy(ParseContext& ctx, const YAML::Node& node, const std::string& path,
                      media::ImagePolicy& out) {
  MapReader r(ctx, node, path, {"max_side", "quality", "format", "detail", "lean", "force"});
  uint64_t side = static_cast<uint64_t>(out.max_side);
  r.Unsigned("max_side", 16384, side);
  uint64_t quality = static_cast<uint64_t>(out.quality);
  r.Unsigned("quality", 100, quality);
  r.Enum("format",
         {{"auto", media::ImageFormat::kUnknown},
          {"jpeg", media::ImageFormat::kJpeg},
          {"webp", media::ImageFormat::kWebp},
          {"png", media::ImageFormat::kPng}},
         out.format);
  r.String("detail", out.detail);
  r.Enum("lean",
         {{"smaller", media::Lean::kSmaller},
          {"balanced", media::Lean::kBalanced},
          {"sharper", media::Lean::kSharper}},
         out.lean);
  r.Bool("force", out.force);
  if (!ctx.ok()) return;
  if (side != 0 && side < 16) {
    ctx.Fail(r.Get("max_side"), r.Path("max_side"),
             "'" + r.Path("max_side") + "' must be 0 (the provider's limit) or at least 16");
    return;
  }
  if (!out.detail.empty() && out.detail != "low" && out.detail != "high" && out.detail != "auto") {
    ctx.Fail(r.Get("detail"), r.Path("detail"),
             "invalid value '" + out.detail + "' for '" + r.Path("detail") +
                 "' (expected low|high|auto)");
    return;
  }
  out.max_side = static_cast<int>(side);
  out.quality = static_cast<int>(quality);
}

void ParseMedia(ParseContext& ctx, const YAML::Node& node, MediaConfig& c) {
  MapReader r(ctx, node, "media",
              {"image_policy", "fetch", "always_fetch", "fetch_allow", "max_fetch_bytes",
               "fetch_timeout", "max_redirects", "video", "describe_model", "upload",
               "upload_above_bytes", "upload_chunk_bytes", "upload_ttl", "upload_poll_timeout"});
  r.String("describe_model", c.describe_model);
  r.Bool("fetch", c.fetch);
  r.Bool("always_fetch", c.always_fetch);
  r.StringList("fetch_allow", c.fetch_allow);
  r.Size("max_fetch_bytes", c.max_fetch_bytes);
  r.Duration("fetch_timeout", c.fetch_timeout);
  r.Unsigned("max_redirects", 10, c.max_redirects);
  r.Bool("upload", c.upload);
  if (!r.Get("upload_above_bytes").IsNull()) {
    uint64_t above = 0;
    r.Size("upload_above_bytes", above);
    c.upload_above_bytes = above;
  }
  r.Size("upload_chunk_bytes", c.upload_chunk_bytes);
  r.Duration("upload_ttl", c.upload_ttl);
  r.Duration("upload_poll_timeout", c.upload_poll_timeout);
  if (!ctx.ok()) return;
  constexpr uint64_t kChunkUnit = 256u << 10;
  if (c.upload_chunk_bytes == 0 || c.upload_chunk_bytes % kChunkUnit != 0) {
    ctx.Fail(r.Get("upload_chunk_bytes"), r.Path("upload_chunk_bytes"),
             "'" + r.Path("upload_chunk_bytes") + "' must be a multiple of 256KiB");
    return;
  }
  // Gemini deletes uploaded files after 48 hours; a reference must not outlive its file.
  if (c.upload_ttl > std::chrono::hours(47)) {
    ctx.Fail(r.Get("upload_ttl"), r.Path("upload_ttl"),
             "'" + r.Path("upload_ttl") + "' must be at most 47h (Gemini keeps files 48h)");
    return;
  }
  if (auto allow = media::AddressPolicy::WithAllowList(c.fetch_allow); !allow.ok()) {
    ctx.Fail(r.Get("fetch_allow"), r.Path("fetch_allow"),
             "invalid '" + r.Path("fetch_allow") + "': " + allow.error().message);
    return;
  }
  ParseImagePolicy(ctx, r.Get("image_policy"), "media.image_policy", c.image_policy);
  if (!ctx.ok()) return;
  MapReader v(ctx, r.Get("video"), "media.video",
              {"max_frames", "fps", "sampling", "frame_max_side", "max_duration"});
  v.Unsigned("max_frames", 64, c.video_max_frames);
  v.Double("fps", 0, 30, c.video_fps);
  bool scene = c.video_scene_changes;
  v.Enum("sampling", {{"even", false}, {"scene", true}}, scene);
  c.video_scene_changes = scene;
  v.Unsigned("frame_max_side", 4096, c.video_frame_max_side);
  v.Duration("max_duration", c.video_max_duration);
  if (!ctx.ok()) return;
  if (c.video_max_frames == 0) {
    ctx.Fail(v.Get("max_frames"), "media.video.max_frames",
             "'media.video.max_frames' must be at least 1");
  }
}

}  // namespace modelmux::routing::config_detail
