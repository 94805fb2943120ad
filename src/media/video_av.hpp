#pragma once
// Internal to video.cpp (and its tests): owning wrappers over FFmpeg's C objects, a demuxer that
// reads from a memory buffer through a custom AVIOContext, a cached scaler and an MJPEG encoder.
// Not thread-safe per object; each SampleFrames call builds its own.

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/frame.h>
#include <libswscale/swscale.h>
}

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace modelmux::media::video_av {

// Sets FFmpeg's log level to quiet, once per process.
void QuietLogs();

// Error values of the video API (kInvalidRequest, param "video").
[[nodiscard]] Error VideoError(std::string code, std::string message);

struct FormatDeleter {
  void operator()(AVFormatContext* p) const { avformat_close_input(&p); }
};
struct AvioDeleter {
  void operator()(AVIOContext* p) const;
};
struct CodecDeleter {
  void operator()(AVCodecContext* p) const { avcodec_free_context(&p); }
};
struct FrameDeleter {
  void operator()(AVFrame* p) const { av_frame_free(&p); }
};
struct PacketDeleter {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct SwsDeleter {
  void operator()(SwsContext* p) const { sws_freeContext(p); }
};
using FormatPtr = std::unique_ptr<AVFormatContext, FormatDeleter>;
using AvioPtr = std::unique_ptr<AVIOContext, AvioDeleter>;
using CodecPtr = std::unique_ptr<AVCodecContext, CodecDeleter>;
using FramePtr = std::unique_ptr<AVFrame, FrameDeleter>;
using PacketPtr = std::unique_ptr<AVPacket, PacketDeleter>;
using SwsPtr = std::unique_ptr<SwsContext, SwsDeleter>;

// A demuxer over bytes the caller keeps alive for the object's lifetime. Only the container
// formats LooksLikeVideo admits are opened, and the demuxer may open no other resource.
class MemoryInput {
 public:
  // Opens the container and reads the stream parameters (avformat_find_stream_info).
  // Errors: "video_unreadable" (also for a container outside the allowed list).
  static Result<std::unique_ptr<MemoryInput>> Open(std::string_view bytes);

  MemoryInput(const MemoryInput&) = delete;
  MemoryInput& operator=(const MemoryInput&) = delete;
  ~MemoryInput();

  [[nodiscard]] AVFormatContext* format() const { return fmt_.get(); }

 private:
  explicit MemoryInput(std::string_view bytes) : bytes_(bytes) {}
  static int Read(void* opaque, uint8_t* buf, int size);
  static int64_t Seek(void* opaque, int64_t offset, int whence);

  std::string_view bytes_;
  int64_t pos_ = 0;
  AvioPtr avio_;   // freed after fmt_ (declared first)
  FormatPtr fmt_;  // opened with AVFMT_FLAG_CUSTOM_IO: does not free avio_
};

// Converts frames to another pixel format and size; keeps its sws context between calls.
class Scaler {
 public:
  // A new frame of `format` at w x h, or nullptr when the source cannot be converted.
  [[nodiscard]] FramePtr Scale(const AVFrame& src, AVPixelFormat format, int w, int h);

 private:
  SwsPtr ctx_;
};

// Encodes YUVJ420P frames as JPEG with FFmpeg's mjpeg encoder; reopens on a size change.
class JpegEncoder {
 public:
  // quality 1..100. Error "video_unreadable" only if the encoder fails (not expected).
  [[nodiscard]] Result<std::string> Encode(const AVFrame& frame, int quality);

 private:
  CodecPtr ctx_;
  int width_ = 0;
  int height_ = 0;
  int quality_ = 0;
};

// 64x64 grey thumbnail for scene-change scores.
inline constexpr int kThumbSide = 64;
using Thumb = std::array<uint8_t, kThumbSide * kThumbSide>;
// The frame's thumbnail; nullopt when the frame cannot be converted.
[[nodiscard]] std::optional<Thumb> MakeThumb(Scaler& scaler, const AVFrame& frame);
// Mean absolute difference of two thumbnails, 0..1.
[[nodiscard]] double ThumbDifference(const Thumb& a, const Thumb& b);

}  // namespace modelmux::media::video_av
