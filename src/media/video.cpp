#include "media/video.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>

#include "media/video_av.hpp"

namespace modelmux::media {
namespace {

using video_av::CodecPtr;
using video_av::FramePtr;
using video_av::MemoryInput;
using video_av::PacketPtr;
using video_av::VideoError;

// Even mode seeks (instead of decoding through) when the next target is this far ahead.
constexpr double kSeekGapS = 10.0;
// Work caps per second of allowed duration: packets read (all streams) and frames decoded.
constexpr double kPacketsPerSecond = 300;
constexpr double kFramesPerSecond = 240;
constexpr int64_t kBaseBudget = 1000;
constexpr int kMaxFramesCap = 256;

struct ContainerKind {
  const char* container;
  const char* mime;
};

ContainerKind NameContainer(std::string_view format_name, std::string_view bytes) {
  if (format_name.starts_with("mov,mp4")) {
    const std::string_view brand = bytes.size() >= 12 ? bytes.substr(8, 4) : std::string_view{};
    if (brand == "qt  " || bytes.substr(4, 4) != "ftyp") return {"mov", "video/quicktime"};
    if (brand.starts_with("3g")) return {"3gp", "video/3gpp"};
    return {"mp4", "video/mp4"};
  }
  if (format_name.starts_with("matroska")) {
    if (bytes.substr(0, 64).find("webm") != std::string_view::npos) return {"webm", "video/webm"};
    return {"matroska", "video/x-matroska"};
  }
  if (format_name == "avi") return {"avi", "video/x-msvideo"};
  if (format_name == "flv") return {"flv", "video/x-flv"};
  if (format_name == "mpegts") return {"mpegts", "video/mp2t"};
  if (format_name == "ogg") return {"ogg", "video/ogg"};
  if (format_name == "mpeg") return {"mpeg", "video/mpeg"};
  return {"unknown", "application/octet-stream"};
}

// An opened input with its chosen video stream.
struct Probed {
  std::unique_ptr<MemoryInput> input;
  int stream = -1;
  const AVCodec* decoder = nullptr;
  VideoInfo info;
};

Result<Probed> OpenAndProbe(std::string_view bytes) {
  if (bytes.empty()) return VideoError("empty_video", "the video is empty");
  if (!LooksLikeVideo(bytes)) {
    return VideoError("unsupported_video_format", "not a supported video container");
  }
  Probed p;
  MM_TRY(p.input, MemoryInput::Open(bytes));
  AVFormatContext* fmt = p.input->format();
  const AVCodec* decoder = nullptr;
  const int idx = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0);
  if (idx == AVERROR_DECODER_NOT_FOUND) {
    return VideoError("unsupported_video_format", "no decoder for the video codec");
  }
  if (fmt->nb_streams == 0) return VideoError("video_unreadable", "the container has no streams");
  if (idx < 0 || (fmt->streams[idx]->disposition & AV_DISPOSITION_ATTACHED_PIC) != 0) {
    return VideoError("unsupported_video_format", "no video stream");
  }
  const AVStream* st = fmt->streams[idx];
  const AVCodecParameters* par = st->codecpar;
  if (par->width <= 0 || par->height <= 0) {
    return VideoError("video_unreadable", "the video stream has no frame size");
  }
  p.stream = idx;
  p.decoder = decoder;

  VideoInfo& info = p.info;
  const ContainerKind kind = NameContainer(fmt->iformat->name, bytes);
  info.container = kind.container;
  info.mime = kind.mime;
  info.codec = avcodec_get_name(par->codec_id);
  info.width = par->width;
  info.height = par->height;
  info.bytes = bytes.size();
  if (st->duration != AV_NOPTS_VALUE && st->duration > 0) {
    info.duration_s = static_cast<double>(st->duration) * av_q2d(st->time_base);
  } else if (fmt->duration != AV_NOPTS_VALUE && fmt->duration > 0) {
    info.duration_s = static_cast<double>(fmt->duration) / AV_TIME_BASE;
  }
  const AVRational rate = av_guess_frame_rate(fmt, const_cast<AVStream*>(st), nullptr);
  if (rate.num > 0 && rate.den > 0 && av_q2d(rate) <= 1000) info.fps = av_q2d(rate);
  if (st->nb_frames > 0) {
    info.frames = st->nb_frames;
  } else if (info.duration_s > 0 && info.fps > 0) {
    info.frames = std::llround(info.duration_s * info.fps);
  }
  return p;
}

// Pulls decoded frames of one stream, within a packet and frame budget.
class FrameSource {
 public:
  FrameSource(AVFormatContext* fmt, int stream, AVCodecContext* dec, int64_t packet_budget,
              int64_t frame_budget)
      : fmt_(fmt),
        stream_(fmt->streams[stream]),
        dec_(dec),
        packet_budget_(packet_budget),
        frame_budget_(frame_budget),
        pkt_(av_packet_alloc()),
        frame_(av_frame_alloc()) {
    start_ = stream_->start_time != AV_NOPTS_VALUE ? stream_->start_time : 0;
  }

  [[nodiscard]] bool ok() const { return pkt_ && frame_; }
  [[nodiscard]] AVFrame& frame() { return *frame_; }
  [[nodiscard]] int errors() const { return errors_; }

  // Decodes the next frame into frame(); false at the end of the stream, on a fatal error or
  // when the budget is spent.
  bool Next() {
    while (!done_) {
      const int rc = avcodec_receive_frame(dec_, frame_.get());
      if (rc == 0) {
        if (++frames_ > frame_budget_) break;
        return true;
      }
      if (rc == AVERROR_EOF) break;
      if (rc != AVERROR(EAGAIN)) ++errors_;
      if (draining_) break;
      if (packets_ >= packet_budget_) {
        Drain();
        continue;
      }
      ++packets_;
      const int read = av_read_frame(fmt_, pkt_.get());
      if (read < 0) {
        if (read != AVERROR_EOF) ++errors_;
        Drain();
        continue;
      }
      if (pkt_->stream_index == stream_->index) {
        const int sent = avcodec_send_packet(dec_, pkt_.get());
        if (sent < 0 && sent != AVERROR(EAGAIN)) ++errors_;
      }
      av_packet_unref(pkt_.get());
    }
    done_ = true;
    return false;
  }

  // Seconds from the stream start of the current frame (never negative).
  [[nodiscard]] double Time() {
    int64_t ts = frame_->best_effort_timestamp;
    if (ts == AV_NOPTS_VALUE) ts = frame_->pts;
    if (ts == AV_NOPTS_VALUE) return last_time_;
    last_time_ = std::max(0.0, static_cast<double>(ts - start_) * av_q2d(stream_->time_base));
    return last_time_;
  }

  // Jumps to the keyframe at or before `t` seconds; false if the demuxer cannot.
  bool Seek(double t) {
    const double ticks = t / av_q2d(stream_->time_base);
    if (!std::isfinite(ticks) || ticks > 9e18) return false;
    if (av_seek_frame(fmt_, stream_->index, start_ + static_cast<int64_t>(ticks),
                      AVSEEK_FLAG_BACKWARD) < 0) {
      return false;
    }
    avcodec_flush_buffers(dec_);
    draining_ = false;
    done_ = false;
    return true;
  }

 private:
  void Drain() {
    avcodec_send_packet(dec_, nullptr);
    draining_ = true;
  }

  AVFormatContext* fmt_;
  AVStream* stream_;
  AVCodecContext* dec_;
  int64_t packet_budget_;
  int64_t frame_budget_;
  PacketPtr pkt_;
  FramePtr frame_;
  int64_t start_ = 0;
  int64_t packets_ = 0;
  int64_t frames_ = 0;
  int errors_ = 0;
  bool draining_ = false;
  bool done_ = false;
  double last_time_ = 0;
};

// Output size: the display size (sample aspect applied) scaled down to fit max_side.
std::pair<int, int> OutputSize(const AVFrame& f, int max_side) {
  double w = f.width;
  const double h = f.height;
  const AVRational sar = f.sample_aspect_ratio;
  if (sar.num > 0 && sar.den > 0 && sar.num != sar.den) w = w * av_q2d(sar);
  const double scale = std::min(1.0, static_cast<double>(max_side) / std::max(w, h));
  return {std::max(1, static_cast<int>(std::lround(w * scale))),
          std::max(1, static_cast<int>(std::lround(h * scale)))};
}

// Scales and encodes frames for the result.
class FrameWriter {
 public:
  explicit FrameWriter(const SampleOptions& o)
      : max_side_(std::max(16, o.max_side)), quality_(o.jpeg_quality) {}

  // The frame scaled to the output size as YUVJ420P, or nullptr.
  FramePtr Scale(const AVFrame& f) {
    const auto [w, h] = OutputSize(f, max_side_);
    return scaler_.Scale(f, AV_PIX_FMT_YUVJ420P, w, h);
  }

  Result<VideoFrame> Encode(const AVFrame& scaled, double t) {
    MM_TRY(std::string jpeg, encoder_.Encode(scaled, quality_));
    return VideoFrame{t, scaled.width, scaled.height, std::move(jpeg)};
  }

 private:
  int max_side_;
  int quality_;
  video_av::Scaler scaler_;
  video_av::JpegEncoder encoder_;
};

std::vector<double> EvenTargets(double duration, const SampleOptions& o, int max_frames) {
  std::vector<double> targets;
  if (duration <= 0) {  // unknown: every 1/fps (default 1 s) from the start
    const double step = o.fps > 0 ? 1.0 / o.fps : 1.0;
    for (int i = 0; i < max_frames; ++i) targets.push_back(i * step);
    return targets;
  }
  if (o.fps > 0 && duration * o.fps <= max_frames) {
    const double step = 1.0 / o.fps;
    for (int i = 0; i * step < duration; ++i) targets.push_back(i * step);
    if (!targets.empty()) return targets;
  }
  for (int i = 0; i < max_frames; ++i) targets.push_back((i + 0.5) * duration / max_frames);
  return targets;
}

Result<std::vector<VideoFrame>> SampleEven(FrameSource& src, const VideoInfo& info,
                                           const SampleOptions& o, int max_frames,
                                           FrameWriter& writer) {
  std::vector<VideoFrame> out;
  const std::vector<double> targets = EvenTargets(info.duration_s, o, max_frames);
  const double tolerance = info.fps > 0 ? 0.5 / info.fps : 0.02;
  FramePtr last(av_frame_alloc());  // the latest decoded frame not taken
  if (!last) return Internal("video: out of memory");
  double last_t = -1;
  double now = -1;  // time of the latest decoded frame
  bool can_seek = true;
  size_t i = 0;
  auto take = [&](const AVFrame& f, double t) -> Status {
    FramePtr scaled = writer.Scale(f);
    if (!scaled) return OkStatus();  // an unconvertible frame is skipped
    MM_TRY(VideoFrame vf, writer.Encode(*scaled, t));
    out.push_back(std::move(vf));
    return OkStatus();
  };
  while (i < targets.size()) {
    bool seeked = false;
    if (can_seek && now >= 0 && targets[i] - now > kSeekGapS) {
      seeked = src.Seek(targets[i]);
      can_seek = seeked;
    }
    if (!src.Next()) break;
    const double t = src.Time();
    if (seeked && t <= now) can_seek = false;  // the seek went back (long GOPs): decode through
    now = t;
    if (t > o.max_duration_s) break;
    if (t + tolerance >= targets[i]) {
      MM_RETURN_IF_ERROR(take(src.frame(), t));
      while (i < targets.size() && targets[i] <= t + tolerance) ++i;
      av_frame_unref(last.get());
      last_t = -1;
    } else {
      av_frame_unref(last.get());
      if (av_frame_ref(last.get(), &src.frame()) == 0) last_t = t;
    }
  }
  // Targets past the last frame (a duration longer than the frames): take the last frame once.
  if (i < targets.size() && last_t >= 0 && (out.empty() || last_t > out.back().timestamp_s)) {
    MM_RETURN_IF_ERROR(take(*last, last_t));
  }
  return out;
}

Result<std::vector<VideoFrame>> SampleScenes(FrameSource& src, const SampleOptions& o,
                                             int max_frames, FrameWriter& writer) {
  struct Candidate {
    double t;
    double score;
    FramePtr scaled;
  };
  std::vector<Candidate> kept;
  video_av::Scaler thumb_scaler;
  video_av::Thumb reference{};
  bool have_reference = false;
  double last_t = -1;
  while (src.Next()) {
    const double t = src.Time();
    if (t > o.max_duration_s) break;
    if (t <= last_t) continue;  // timestamps that go back (damaged input) are skipped
    last_t = t;
    const std::optional<video_av::Thumb> thumb = video_av::MakeThumb(thumb_scaler, src.frame());
    if (!thumb) continue;
    double score = std::numeric_limits<double>::infinity();  // the first frame always counts
    if (have_reference) {
      score = video_av::ThumbDifference(reference, *thumb);
      if (score <= o.scene_threshold) continue;
    }
    reference = *thumb;
    have_reference = true;
    if (static_cast<int>(kept.size()) >= max_frames) {
      auto weakest = std::min_element(
          kept.begin(), kept.end(), [](const auto& a, const auto& b) { return a.score < b.score; });
      if (weakest->score >= score) continue;
      kept.erase(weakest);  // keeps time order
    }
    FramePtr scaled = writer.Scale(src.frame());
    if (scaled) kept.push_back({t, score, std::move(scaled)});
  }
  std::vector<VideoFrame> out;
  for (const Candidate& c : kept) {
    MM_TRY(VideoFrame vf, writer.Encode(*c.scaled, c.t));
    out.push_back(std::move(vf));
  }
  return out;
}

}  // namespace

bool LooksLikeVideo(std::string_view b) {
  auto at = [&](size_t pos, std::string_view magic) {
    return b.substr(pos, magic.size()) == magic;
  };
  auto byte = [&](size_t pos) { return static_cast<unsigned char>(b[pos]); };
  if (b.size() >= 12 && at(4, "ftyp")) {
    // ISO-BMFF also carries still images (AVIF, HEIF) and audio (M4A): not videos.
    static constexpr std::string_view kNotVideo[] = {"avif", "avis", "heic", "heix", "hevc",
                                                     "hevx", "heim", "heis", "mif1", "msf1",
                                                     "M4A ", "M4B ", "M4P "};
    const std::string_view brand = b.substr(8, 4);
    return std::find(std::begin(kNotVideo), std::end(kNotVideo), brand) == std::end(kNotVideo);
  }
  if (b.size() >= 8 && (at(4, "moov") || at(4, "mdat") || at(4, "wide"))) return true;  // old mov
  if (at(0, "\x1a\x45\xdf\xa3")) return true;                         // EBML: webm, mkv
  if (b.size() >= 12 && at(0, "RIFF") && at(8, "AVI ")) return true;  // AVI
  if (at(0, "FLV\x01")) return true;
  if (at(0, "OggS")) return true;
  if (at(0, std::string_view("\x00\x00\x01\xba", 4))) return true;          // MPEG program stream
  if (b.size() > 188 && byte(0) == 0x47 && byte(188) == 0x47) return true;  // MPEG-TS
  if (b.size() > 196 && byte(4) == 0x47 && byte(196) == 0x47) return true;  // M2TS (192-byte)
  return false;
}

Result<VideoInfo> ProbeVideo(std::string_view bytes) {
  MM_TRY(Probed p, OpenAndProbe(bytes));
  return std::move(p.info);
}

Result<SampledVideo> SampleFrames(std::string_view bytes, const SampleOptions& options) {
  MM_TRY(Probed p, OpenAndProbe(bytes));
  const VideoInfo& info = p.info;
  if (info.duration_s > options.max_duration_s) {
    return VideoError("video_too_long", "the video is longer than allowed");
  }
  if (static_cast<int64_t>(info.width) * info.height > options.max_decode_pixels) {
    return VideoError("video_too_large", "the video frame size is larger than allowed");
  }
  AVFormatContext* fmt = p.input->format();
  for (unsigned s = 0; s < fmt->nb_streams; ++s) {
    if (static_cast<int>(s) != p.stream) fmt->streams[s]->discard = AVDISCARD_ALL;
  }
  CodecPtr dec(avcodec_alloc_context3(p.decoder));
  if (!dec) return Internal("video: out of memory");
  if (avcodec_parameters_to_context(dec.get(), fmt->streams[p.stream]->codecpar) < 0) {
    return VideoError("video_unreadable", "the video codec parameters are invalid");
  }
  dec->pkt_timebase = fmt->streams[p.stream]->time_base;
  dec->thread_count = 1;  // callers parallelise across requests on their worker pool
  // Also refuses a size change mid-stream; decoders check their padded size, hence the slack.
  dec->max_pixels = options.max_decode_pixels + options.max_decode_pixels / 4 + (1 << 18);
  if (avcodec_open2(dec.get(), p.decoder, nullptr) < 0) {
    return VideoError("video_unreadable", "the video decoder could not be opened");
  }

  const double allowed_s = std::clamp(options.max_duration_s, 0.0, 86400.0);
  const auto packet_budget = kBaseBudget + static_cast<int64_t>(allowed_s * kPacketsPerSecond);
  const auto frame_budget = kBaseBudget + static_cast<int64_t>(allowed_s * kFramesPerSecond);
  FrameSource src(fmt, p.stream, dec.get(), packet_budget, frame_budget);
  if (!src.ok()) return Internal("video: out of memory");
  const int max_frames = std::clamp(options.max_frames, 1, kMaxFramesCap);
  FrameWriter writer(options);

  SampledVideo out;
  MM_TRY(out.frames, options.mode == SampleMode::kScene
                         ? SampleScenes(src, options, max_frames, writer)
                         : SampleEven(src, info, options, max_frames, writer));
  if (out.frames.empty()) {
    if (src.errors() > 0) return VideoError("video_unreadable", "no video frame could be decoded");
    return VideoError("empty_video", "the video has no frames");
  }
  out.info = std::move(p.info);
  return out;
}

std::string FrameLabel(double timestamp_s) {
  if (!std::isfinite(timestamp_s) || timestamp_s < 0) timestamp_s = 0;
  timestamp_s = std::min(timestamp_s, 1e12);
  const long long ms = std::llround(timestamp_s * 1000.0);
  const long long hours = ms / 3'600'000;
  const int minutes = static_cast<int>(ms / 60'000 % 60);
  const int seconds = static_cast<int>(ms / 1000 % 60);
  const int millis = static_cast<int>(ms % 1000);
  char buf[48];
  if (hours > 0) {
    std::snprintf(buf, sizeof buf, "[%lld:%02d:%02d.%03d]", hours, minutes, seconds, millis);
  } else {
    std::snprintf(buf, sizeof buf, "[%02d:%02d.%03d]", minutes, seconds, millis);
  }
  return buf;
}

}  // namespace modelmux::media
