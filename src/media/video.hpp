#pragma once
// Video probing and frame sampling for multimodal input, on FFmpeg's libraries. The input is the
// video's bytes in memory (a decoded base64 body or a fetched file); nothing is written to disk and
// nothing outside the buffer is opened (demuxers that follow references are refused).
//
// Threading: every function is reentrant and may run on any worker thread at once; none keeps
// state between calls (FFmpeg's log level is set to quiet once, process-wide). The calls are CPU
// bound (decoding), so run them on a worker pool, never on an event loop.
//
// Errors (all ErrorKind::kInvalidRequest, param "video"), by Error::code:
//   "empty_video"              zero bytes, or a stream with no frame in it
//   "unsupported_video_format" not a container we read (see LooksLikeVideo), no video stream, or
//                              a codec with no decoder
//   "video_unreadable"         a container we read but whose contents are broken
//   "video_too_long"           duration above SampleOptions::max_duration_s
//   "video_too_large"          width*height above SampleOptions::max_decode_pixels (bomb guard)

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace modelmux::media {

struct VideoInfo {
  std::string container;  // "mp4", "mov", "webm", "matroska", "avi", "flv", "mpegts", "ogg", "mpeg"
  std::string codec;      // FFmpeg's codec name: "h264", "hevc", "vp9", "av1", "mpeg4", "mjpeg"...
  int width = 0;          // coded size of the video stream
  int height = 0;
  double duration_s = 0;  // 0 when the container does not say
  double fps = 0;         // 0 when unknown
  int64_t frames = 0;     // from the container, else estimated as duration * fps
  size_t bytes = 0;       // size of the input
  std::string mime;       // "video/mp4", "video/webm", ...
};

// True when the bytes start like a container we read: ftyp (mp4/mov/3gp; not AVIF/HEIF images),
// EBML (webm/mkv), RIFF....AVI, FLV, MPEG-TS sync bytes (188- or 192-byte packets), OggS, MPEG-PS
// pack header. Looks at the first bytes only; says nothing about whether the rest decodes.
[[nodiscard]] bool LooksLikeVideo(std::string_view bytes);

// Reads the container header and the video stream's parameters; decodes at most the few frames
// FFmpeg needs to fill them in. Does not apply SampleOptions limits.
[[nodiscard]] Result<VideoInfo> ProbeVideo(std::string_view bytes);

enum class SampleMode { kEven, kScene };

struct SampleOptions {
  // Frames per second to take (every 1/fps s from 0); 0 = max_frames spread evenly over the
  // duration. When 1/fps sampling would exceed max_frames, max_frames are spread evenly instead.
  double fps = 0;
  int max_frames = 8;
  SampleMode mode = SampleMode::kEven;
  // Scene mode: 0..1, mean absolute luma difference (on a 64x64 thumbnail) to the previous kept
  // frame above which a frame is a scene change. The first frame is always kept; with more
  // candidates than max_frames, the strongest changes are kept, in time order.
  double scene_threshold = 0.3;
  int max_side = 768;     // frames are scaled down (never up) so the longest side fits
  int jpeg_quality = 80;  // 1..100
  double max_duration_s = 600;
  int64_t max_decode_pixels = 8192LL * 8192;
};

struct VideoFrame {
  double timestamp_s = 0;  // from the start of the video stream
  int width = 0;
  int height = 0;
  std::string jpeg;  // baseline JPEG (FFmpeg's mjpeg encoder), 4:2:0, full range
};

struct SampledVideo {
  VideoInfo info;
  std::vector<VideoFrame>
      frames;  // increasing timestamps; may be fewer than asked on damaged input
};

// Probes, refuses what breaks the limits before decoding anything, then decodes sequentially
// (seeking ahead on long videos in even mode) and returns JPEG frames. Decoding work is capped by
// a packet and frame budget derived from max_duration_s, so a hostile file cannot spin forever.
// A damaged stream yields the frames decoded before the damage; an error only if there are none.
[[nodiscard]] Result<SampledVideo> SampleFrames(std::string_view bytes,
                                                const SampleOptions& options);

// "[mm:ss.mmm]" label for a timestamp ("[00:01.500]"), "[h:mm:ss.mmm]" from one hour on; used in
// the prompt before each frame. Negative or non-finite values print as zero.
[[nodiscard]] std::string FrameLabel(double timestamp_s);

}  // namespace modelmux::media
