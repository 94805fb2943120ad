#pragma once
// Test and benchmark helper (header only, not part of mm_media): encodes a short synthetic clip
// into memory with libavcodec/libavformat. The picture is a solid scene colour with a faint
// texture and a small moving square; the scene changes abruptly at 1.5 s and 3.0 s:
// dark (Y=40) until 1.5 s, bright (Y=200) until 3.0 s, mid grey (Y=110) after.

#include <algorithm>
#include <cstring>
#include <string>

#include "media/video_av.hpp"

extern "C" {
#include <libavutil/opt.h>
}

namespace modelmux::media::testclip {

struct ClipSpec {
  const char* muxer = "mp4";      // FFmpeg muxer name: "mp4", "avi", "matroska", "mpegts", "webm"
  const char* encoder = "mpeg4";  // FFmpeg encoder name: "mpeg4", "mjpeg", "libx264", "libvpx"
  int width = 160;
  int height = 120;
  int fps = 10;
  double seconds = 4;
};

struct Clip {
  std::string bytes;  // empty when the clip could not be made
  std::string error;  // why not
};

// Limited-range luma of the scene shown at time t.
inline int SceneLuma(double t) {
  return t < 1.5 ? 40 : (t < 3.0 ? 200 : 110);
}

namespace detail {

struct Sink {
  std::string data;
  int64_t pos = 0;
};

inline int Write(void* opaque, uint8_t* buf, int size) {
  auto* s = static_cast<Sink*>(opaque);
  const auto end = static_cast<size_t>(s->pos) + static_cast<size_t>(size);
  if (end > s->data.size()) s->data.resize(end);
  std::memcpy(s->data.data() + s->pos, buf, static_cast<size_t>(size));
  s->pos += size;
  return size;
}

inline int64_t Seek(void* opaque, int64_t offset, int whence) {
  auto* s = static_cast<Sink*>(opaque);
  const auto size = static_cast<int64_t>(s->data.size());
  if (whence & AVSEEK_SIZE) return size;
  switch (whence & ~AVSEEK_FORCE) {
    case SEEK_SET:
      s->pos = offset;
      break;
    case SEEK_CUR:
      s->pos += offset;
      break;
    case SEEK_END:
      s->pos = size + offset;
      break;
    default:
      return -1;
  }
  return s->pos;
}

struct OutputDeleter {
  void operator()(AVFormatContext* p) const { avformat_free_context(p); }
};

inline void Paint(AVFrame& f, int index, double t) {
  const int luma = SceneLuma(t);
  const int u = t < 1.5 ? 128 : (t < 3.0 ? 90 : 160);
  const int v = t < 1.5 ? 128 : (t < 3.0 ? 160 : 90);
  const int square_x = (index * 3) % std::max(1, f.width - 16);
  for (int y = 0; y < f.height; ++y) {
    uint8_t* row = f.data[0] + static_cast<ptrdiff_t>(y) * f.linesize[0];
    for (int x = 0; x < f.width; ++x) {
      const bool in_square = x >= square_x && x < square_x + 16 && y >= 8 && y < 24;
      row[x] = static_cast<uint8_t>(in_square ? 235 : luma + ((x + y) % 8));
    }
  }
  for (int y = 0; y < (f.height + 1) / 2; ++y) {
    std::memset(f.data[1] + static_cast<ptrdiff_t>(y) * f.linesize[1], u, (f.width + 1) / 2);
    std::memset(f.data[2] + static_cast<ptrdiff_t>(y) * f.linesize[2], v, (f.width + 1) / 2);
  }
  f.pts = index;
}

}  // namespace detail

inline Clip MakeClip(const ClipSpec& spec) {
  using namespace video_av;
  video_av::QuietLogs();
  const AVCodec* codec = avcodec_find_encoder_by_name(spec.encoder);
  if (codec == nullptr) return {{}, std::string("no encoder ") + spec.encoder};
  detail::Sink sink;
  AVFormatContext* raw = nullptr;
  if (avformat_alloc_output_context2(&raw, nullptr, spec.muxer, nullptr) < 0) {
    return {{}, std::string("no muxer ") + spec.muxer};
  }
  std::unique_ptr<AVFormatContext, detail::OutputDeleter> oc(raw);
  auto* buffer = static_cast<unsigned char*>(av_malloc(4096));
  AvioPtr avio(avio_alloc_context(buffer, 4096, 1, &sink, nullptr, &detail::Write, &detail::Seek));
  oc->pb = avio.get();
  oc->flags |= AVFMT_FLAG_CUSTOM_IO;

  CodecPtr enc(avcodec_alloc_context3(codec));
  enc->width = spec.width;
  enc->height = spec.height;
  enc->time_base = AVRational{1, spec.fps};
  enc->framerate = AVRational{spec.fps, 1};
  enc->pix_fmt = codec->id == AV_CODEC_ID_MJPEG ? AV_PIX_FMT_YUVJ420P : AV_PIX_FMT_YUV420P;
  enc->gop_size = spec.fps;
  enc->max_b_frames = 0;
  enc->bit_rate = 400000;
  enc->thread_count = 1;
  if (oc->oformat->flags & AVFMT_GLOBALHEADER) enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
  if (codec->id == AV_CODEC_ID_H264) av_opt_set(enc->priv_data, "preset", "ultrafast", 0);
  if (codec->id == AV_CODEC_ID_VP8 || codec->id == AV_CODEC_ID_VP9) {
    av_opt_set(enc->priv_data, "deadline", "realtime", 0);
    av_opt_set_int(enc->priv_data, "cpu-used", 8, 0);
  }
  if (avcodec_open2(enc.get(), codec, nullptr) < 0) return {{}, "encoder did not open"};
  AVStream* st = avformat_new_stream(oc.get(), nullptr);
  if (st == nullptr || avcodec_parameters_from_context(st->codecpar, enc.get()) < 0) {
    return {{}, "no stream"};
  }
  st->time_base = enc->time_base;
  if (avformat_write_header(oc.get(), nullptr) < 0) return {{}, "header not written"};

  PacketPtr pkt(av_packet_alloc());
  auto drain = [&]() -> bool {
    while (true) {
      const int rc = avcodec_receive_packet(enc.get(), pkt.get());
      if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return true;
      if (rc < 0) return false;
      if (pkt->duration == 0) pkt->duration = 1;
      av_packet_rescale_ts(pkt.get(), enc->time_base, st->time_base);
      pkt->stream_index = st->index;
      if (av_interleaved_write_frame(oc.get(), pkt.get()) < 0) return false;
    }
  };
  const int count = static_cast<int>(spec.seconds * spec.fps);
  for (int i = 0; i < count; ++i) {
    FramePtr frame(av_frame_alloc());
    frame->format = enc->pix_fmt;
    frame->width = spec.width;
    frame->height = spec.height;
    if (av_frame_get_buffer(frame.get(), 0) < 0) return {{}, "no frame buffer"};
    detail::Paint(*frame, i, static_cast<double>(i) / spec.fps);
    if (avcodec_send_frame(enc.get(), frame.get()) < 0 || !drain()) return {{}, "encode failed"};
  }
  if (avcodec_send_frame(enc.get(), nullptr) < 0 || !drain()) return {{}, "flush failed"};
  if (av_write_trailer(oc.get()) < 0) return {{}, "trailer not written"};
  avio_flush(avio.get());
  return {std::move(sink.data), {}};
}

}  // namespace modelmux::media::testclip
