#include "media/video_av.hpp"

extern "C" {
#include <libavutil/log.h>
#include <libavutil/mem.h>
}

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace modelmux::media::video_av {
namespace {

constexpr int kIoBufferSize = 64 * 1024;
// The demuxers we open: the containers LooksLikeVideo admits (names as FFmpeg spells them).
constexpr const char* kAllowedFormats =
    "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,avi,flv,mpegts,ogg,mpeg";
// Bounds on what avformat_find_stream_info reads and decodes while probing.
constexpr int64_t kProbeBytes = 8 * 1024 * 1024;
constexpr int64_t kAnalyzeMicros = 10 * AV_TIME_BASE;

// The demuxer may not open anything but our buffer (HLS segments, mov drefs, concat lists...).
int RefuseOpen(AVFormatContext*, AVIOContext**, const char*, int, AVDictionary**) {
  return AVERROR(EPERM);
}

}  // namespace

void QuietLogs() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_level(AV_LOG_QUIET); });
}

Error VideoError(std::string code, std::string message) {
  return InvalidRequest(std::move(message), "video", std::move(code));
}

void AvioDeleter::operator()(AVIOContext* p) const {
  if (p == nullptr) return;
  av_freep(&p->buffer);  // may have been reallocated by avio: free what it holds now
  avio_context_free(&p);
}

MemoryInput::~MemoryInput() {
  fmt_.reset();  // closes the demuxer, which may still read through avio_
  avio_.reset();
}

int MemoryInput::Read(void* opaque, uint8_t* buf, int size) {
  auto* self = static_cast<MemoryInput*>(opaque);
  const auto total = static_cast<int64_t>(self->bytes_.size());
  const int64_t left = total - self->pos_;
  if (left <= 0 || size <= 0) return AVERROR_EOF;
  const auto n = static_cast<int>(std::min<int64_t>(left, size));
  std::memcpy(buf, self->bytes_.data() + self->pos_, static_cast<size_t>(n));
  self->pos_ += n;
  return n;
}

int64_t MemoryInput::Seek(void* opaque, int64_t offset, int whence) {
  auto* self = static_cast<MemoryInput*>(opaque);
  const auto total = static_cast<int64_t>(self->bytes_.size());
  if (whence & AVSEEK_SIZE) return total;
  // Offsets come from file contents: bound them before adding so nothing overflows.
  if (offset < -total || offset > total) return AVERROR(EINVAL);
  int64_t target = 0;
  switch (whence & ~AVSEEK_FORCE) {
    case SEEK_SET:
      target = offset;
      break;
    case SEEK_CUR:
      target = self->pos_ + offset;
      break;
    case SEEK_END:
      target = total + offset;
      break;
    default:
      return AVERROR(EINVAL);
  }
  if (target < 0 || target > total) return AVERROR(EINVAL);
  self->pos_ = target;
  return target;
}

Result<std::unique_ptr<MemoryInput>> MemoryInput::Open(std::string_view bytes) {
  QuietLogs();
  std::unique_ptr<MemoryInput> in(new MemoryInput(bytes));
  auto* buffer = static_cast<unsigned char*>(av_malloc(kIoBufferSize));
  if (buffer == nullptr) return Internal("video: out of memory");
  AVIOContext* avio = avio_alloc_context(buffer, kIoBufferSize, 0, in.get(), &MemoryInput::Read,
                                         nullptr, &MemoryInput::Seek);
  if (avio == nullptr) {
    av_free(buffer);
    return Internal("video: out of memory");
  }
  in->avio_.reset(avio);

  AVFormatContext* fmt = avformat_alloc_context();
  if (fmt == nullptr) return Internal("video: out of memory");
  fmt->pb = avio;
  fmt->flags |= AVFMT_FLAG_CUSTOM_IO;
  fmt->io_open = &RefuseOpen;
  fmt->probesize = kProbeBytes;
  fmt->max_analyze_duration = kAnalyzeMicros;
  fmt->format_whitelist = av_strdup(kAllowedFormats);
  if (fmt->format_whitelist == nullptr) {
    avformat_free_context(fmt);
    return Internal("video: out of memory");
  }
  // On failure avformat_open_input frees fmt (not the custom avio) and nulls the pointer.
  if (avformat_open_input(&fmt, nullptr, nullptr, nullptr) < 0) {
    return VideoError("video_unreadable", "the video container could not be read");
  }
  in->fmt_.reset(fmt);
  if (avformat_find_stream_info(fmt, nullptr) < 0) {
    return VideoError("video_unreadable", "the video streams could not be read");
  }
  return in;
}

FramePtr Scaler::Scale(const AVFrame& src, AVPixelFormat format, int w, int h) {
  if (src.width <= 0 || src.height <= 0 || src.format < 0 || w <= 0 || h <= 0) return nullptr;
  SwsContext* ctx = sws_getCachedContext(ctx_.release(), src.width, src.height,
                                         static_cast<AVPixelFormat>(src.format), w, h, format,
                                         SWS_BILINEAR, nullptr, nullptr, nullptr);
  ctx_.reset(ctx);  // on failure the old context was freed and ctx is null
  if (ctx == nullptr) return nullptr;
  FramePtr dst(av_frame_alloc());
  if (!dst) return nullptr;
  dst->format = format;
  dst->width = w;
  dst->height = h;
  if (av_frame_get_buffer(dst.get(), 0) < 0) return nullptr;
  if (sws_scale(ctx, src.data, src.linesize, 0, src.height, dst->data, dst->linesize) <= 0) {
    return nullptr;
  }
  return dst;
}

Result<std::string> JpegEncoder::Encode(const AVFrame& frame, int quality) {
  quality = std::clamp(quality, 1, 100);
  // JPEG quality 100..1 onto MPEG qscale 2..31 (lower is finer).
  const int qscale = static_cast<int>(std::lround(2.0 + (100 - quality) * 29.0 / 99.0));
  if (!ctx_ || frame.width != width_ || frame.height != height_ || quality != quality_) {
    ctx_.reset();
    const AVCodec* codec = avcodec_find_encoder(AV_CODEC_ID_MJPEG);
    if (codec == nullptr) return Internal("video: no mjpeg encoder");
    CodecPtr ctx(avcodec_alloc_context3(codec));
    if (!ctx) return Internal("video: out of memory");
    ctx->width = frame.width;
    ctx->height = frame.height;
    ctx->pix_fmt = AV_PIX_FMT_YUVJ420P;
    ctx->color_range = AVCOL_RANGE_JPEG;
    ctx->time_base = AVRational{1, 25};
    ctx->thread_count = 1;
    ctx->flags |= AV_CODEC_FLAG_QSCALE;
    ctx->global_quality = FF_QP2LAMBDA * qscale;
    if (avcodec_open2(ctx.get(), codec, nullptr) < 0) {
      return Internal("video: the jpeg encoder could not be opened");
    }
    ctx_ = std::move(ctx);
    width_ = frame.width;
    height_ = frame.height;
    quality_ = quality;
  }
  // The encoder reads the fixed quantizer from the frame: encode a reference with it set.
  FramePtr in(av_frame_clone(&frame));
  if (!in) return Internal("video: out of memory");
  in->quality = FF_QP2LAMBDA * qscale;
  in->pict_type = AV_PICTURE_TYPE_NONE;
  PacketPtr pkt(av_packet_alloc());
  if (!pkt) return Internal("video: out of memory");
  if (avcodec_send_frame(ctx_.get(), in.get()) < 0 ||
      avcodec_receive_packet(ctx_.get(), pkt.get()) < 0) {
    ctx_.reset();  // a failed encoder is not reused
    return Internal("video: jpeg encoding failed");
  }
  return std::string(reinterpret_cast<const char*>(pkt->data), static_cast<size_t>(pkt->size));
}

std::optional<Thumb> MakeThumb(Scaler& scaler, const AVFrame& frame) {
  FramePtr grey = scaler.Scale(frame, AV_PIX_FMT_GRAY8, kThumbSide, kThumbSide);
  if (!grey) return std::nullopt;
  Thumb out;
  for (int y = 0; y < kThumbSide; ++y) {
    std::memcpy(out.data() + static_cast<size_t>(y) * kThumbSide,
                grey->data[0] + static_cast<ptrdiff_t>(y) * grey->linesize[0], kThumbSide);
  }
  return out;
}

double ThumbDifference(const Thumb& a, const Thumb& b) {
  uint64_t sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += static_cast<uint64_t>(std::abs(a[i] - b[i]));
  return static_cast<double>(sum) / (255.0 * static_cast<double>(a.size()));
}

}  // namespace modelmux::media::video_av
