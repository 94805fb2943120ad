// Local media files through the SDK (Message::image_paths, video_paths, video_urls), seen from a
// program: only the public headers, only libmodelmux. The embedded simulator states every image
// and video it receives at the start of its answer ("[image: png 1x1, 70 bytes]"), so each test
// checks what reached the provider. The test media are written here byte by byte (a 1x1 PNG and
// an uncompressed AVI clip), since a program linking libmodelmux has no image library of its own.

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <string>
#include <vector>

#include "modelmux/client.hpp"

namespace {

namespace fs = std::filesystem;
using modelmux::ChatOptions;
using modelmux::Client;

// A 1x1 RGBA PNG (70 bytes).
const std::string kPng(
    "\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    "\x1f\x15\xc4\x89\x00\x00\x00\x0dIDAT\x78\xda\x63\xfc\xcf\xc0\x50\x0f\x00\x04\x85\x01\x80\x84"
    "\xa9\x8c\x21\x00\x00\x00\x00IEND\xae\x42\x60\x82",
    70);

void U32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void U16(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v & 0xff));
  out.push_back(static_cast<char>(v >> 8));
}
std::string Chunk(const char* fourcc, const std::string& data) {
  std::string out(fourcc, 4);
  U32(out, static_cast<uint32_t>(data.size()));
  out += data;
  if (data.size() % 2 != 0) out.push_back('\0');
  return out;
}
std::string List(const char* type, const std::string& data) {
  return Chunk("LIST", std::string(type, 4) + data);
}

// An AVI of uncompressed 24-bit frames (BI_RGB): `frames` frames of width x height at `fps`, each
// a flat grey whose brightness grows from frame to frame.
std::string RawAvi(int width, int height, int fps, int frames) {
  const uint32_t row = static_cast<uint32_t>((width * 3 + 3) / 4 * 4);
  const uint32_t frame_bytes = row * static_cast<uint32_t>(height);
  std::string avih;
  U32(avih, 1'000'000 / static_cast<uint32_t>(fps));  // microseconds per frame
  U32(avih, frame_bytes * static_cast<uint32_t>(fps));
  U32(avih, 0);
  U32(avih, 0x10);  // AVIF_HASINDEX
  U32(avih, static_cast<uint32_t>(frames));
  U32(avih, 0);
  U32(avih, 1);  // streams
  U32(avih, frame_bytes);
  U32(avih, static_cast<uint32_t>(width));
  U32(avih, static_cast<uint32_t>(height));
  for (int i = 0; i < 4; ++i) U32(avih, 0);

  std::string strh = "vids";
  strh += std::string("\0\0\0\0", 4);  // handler: none (uncompressed)
  U32(strh, 0);
  U16(strh, 0);
  U16(strh, 0);
  U32(strh, 0);
  U32(strh, 1);  // scale
  U32(strh, static_cast<uint32_t>(fps));
  U32(strh, 0);
  U32(strh, static_cast<uint32_t>(frames));
  U32(strh, frame_bytes);
  U32(strh, 0xFFFFFFFFu);
  U32(strh, 0);
  U16(strh, 0);
  U16(strh, 0);
  U16(strh, static_cast<uint16_t>(width));
  U16(strh, static_cast<uint16_t>(height));

  std::string strf;
  U32(strf, 40);
  U32(strf, static_cast<uint32_t>(width));
  U32(strf, static_cast<uint32_t>(height));
  U16(strf, 1);
  U16(strf, 24);
  U32(strf, 0);  // BI_RGB
  U32(strf, frame_bytes);
  for (int i = 0; i < 4; ++i) U32(strf, 0);

  std::string movi;
  std::string idx;
  for (int f = 0; f < frames; ++f) {
    const auto grey = static_cast<char>(40 + f * 180 / std::max(1, frames - 1));
    U32(idx, 0x62643030);  // "00db"
    U32(idx, 0x10);        // AVIIF_KEYFRAME
    U32(idx, static_cast<uint32_t>(4 + movi.size()));
    U32(idx, frame_bytes);
    movi += Chunk("00db", std::string(frame_bytes, grey));
  }
  const std::string hdrl =
      Chunk("avih", avih) + List("strl", Chunk("strh", strh) + Chunk("strf", strf));
  std::string body = "AVI " + List("hdrl", hdrl) + List("movi", movi) + Chunk("idx1", idx);
  std::string out = "RIFF";
  U32(out, static_cast<uint32_t>(body.size()));
  return out + body;
}

std::string DataUrl(const std::string& mime, const std::string& bytes) {
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out = "data:" + mime + ";base64,";
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t n = (static_cast<uint8_t>(bytes[i]) << 16) |
                       (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                       static_cast<uint8_t>(bytes[i + 2]);
    for (int k = 18; k >= 0; k -= 6) out.push_back(kAlphabet[(n >> k) & 63]);
  }
  if (i < bytes.size()) {
    uint32_t n = static_cast<uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) n |= static_cast<uint8_t>(bytes[i + 1]) << 8;
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(i + 1 < bytes.size() ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

struct SeenImage {
  std::string format;
  int width = 0, height = 0;
};

// The "[image: FORMAT WxH, N bytes]" lines the simulator starts its answer with.
std::vector<SeenImage> ImagesIn(const std::string& text) {
  static const std::regex re(R"(\[image: (\w+) (\d+)x(\d+), (?:\d+ frames, )?\d+ bytes\])");
  std::vector<SeenImage> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator();
       ++it) {
    out.push_back({(*it)[1], std::stoi((*it)[2]), std::stoi((*it)[3])});
  }
  return out;
}

class ClientMediaTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() /
                        ("modelmux_sdk_media_test_" + std::to_string(::getpid())));
    fs::create_directories(*dir_);
    Client::Options options;
    options.config_yaml = "providers:\n  sim:\n    type: sim\n";
    options.discover_environment = false;
    auto created = Client::Create(options);
    ASSERT_TRUE(created.ok()) << created.error().ToString();
    client_ = std::move(created).value().release();
  }
  static void TearDownTestSuite() {
    delete client_;
    client_ = nullptr;
    std::error_code ec;
    fs::remove_all(*dir_, ec);
    delete dir_;
    dir_ = nullptr;
  }
  static std::string Write(const std::string& name, const std::string& bytes) {
    const fs::path p = *dir_ / name;
    std::ofstream(p, std::ios::binary) << bytes;
    return p.string();
  }
  static ChatOptions Ask(modelmux::Message message) {
    ChatOptions o;
    o.model = "sim/echo";
    o.messages.push_back(std::move(message));
    o.timeout = std::chrono::seconds(60);
    return o;
  }

  static Client* client_;
  static fs::path* dir_;
};
Client* ClientMediaTest::client_ = nullptr;
fs::path* ClientMediaTest::dir_ = nullptr;

TEST_F(ClientMediaTest, ImageFileIsSentAsTheImageItHolds) {
  // The extension says JPEG; the bytes say PNG, and the bytes win.
  const std::string path = Write("pixel.jpg", kPng);
  auto reply = client_->chat(Ask(modelmux::Message::UserFiles("what is in this file", {path})));
  ASSERT_TRUE(reply.ok()) << reply.error().ToString();
  EXPECT_EQ(reply->text, "[image: png 1x1, 70 bytes]\nwhat is in this file");
}

TEST_F(ClientMediaTest, FilesFollowUrlsInOrder) {
  modelmux::Message m = modelmux::Message::User("two", {DataUrl("image/png", kPng)});
  m.image_paths.push_back(Write("second.png", kPng));
  auto reply = client_->chat(Ask(m));
  ASSERT_TRUE(reply.ok()) << reply.error().ToString();
  EXPECT_EQ(ImagesIn(reply->text).size(), 2u) << reply->text;
}

TEST_F(ClientMediaTest, VideoFileBecomesTimestampedFrames) {
  const std::string path = Write("clip.avi", RawAvi(32, 24, 5, 10));
  auto reply = client_->chat(Ask(modelmux::Message::UserFiles("what happens", {}, {path})));
  ASSERT_TRUE(reply.ok()) << reply.error().ToString();
  // The simulator takes no video: the clip arrives as frames (JPEG, never upscaled), each after a
  // text part with its time.
  auto frames = ImagesIn(reply->text);
  ASSERT_GE(frames.size(), 2u) << reply->text;
  for (const auto& f : frames) {
    EXPECT_EQ(f.format, "jpeg");
    EXPECT_EQ(f.width, 32);
    EXPECT_EQ(f.height, 24);
  }
  EXPECT_NE(reply->text.find("[video: 2.0 s, "), std::string::npos) << reply->text;
  static const std::regex label(R"(\[00:0\d\.\d{3}\])");
  const auto labels = std::distance(
      std::sregex_iterator(reply->text.begin(), reply->text.end(), label), std::sregex_iterator());
  EXPECT_EQ(static_cast<size_t>(labels), frames.size()) << reply->text;
  EXPECT_NE(reply->text.find("what happens"), std::string::npos) << reply->text;
}

TEST_F(ClientMediaTest, VideoUrlIsSentLikeAVideoFile) {
  const std::string clip = RawAvi(32, 24, 5, 10);
  auto from_file =
      client_->chat(Ask(modelmux::Message::UserFiles("same?", {}, {Write("same.avi", clip)})));
  modelmux::Message m = modelmux::Message::User("same?");
  m.video_urls.push_back(DataUrl("video/x-msvideo", clip));
  auto from_url = client_->chat(Ask(m));
  ASSERT_TRUE(from_file.ok()) << from_file.error().ToString();
  ASSERT_TRUE(from_url.ok()) << from_url.error().ToString();
  EXPECT_GE(ImagesIn(from_url->text).size(), 2u) << from_url->text;
  EXPECT_EQ(from_url->text, from_file->text);
}

TEST_F(ClientMediaTest, UnreadableOrWrongFilesAreRefusedBeforeAnyCall) {
  struct Case {
    std::string name;
    modelmux::Message message;
    std::string code;
    std::string param;
  };
  const std::string text_file = Write("notes.png", "these are notes, not a picture\n");
  const std::string png = Write("still.png", kPng);
  modelmux::Message second = modelmux::Message::UserFiles("x", {png, text_file});
  modelmux::Message empty_url = modelmux::Message::User("x");
  empty_url.video_urls.push_back("");
  const std::vector<Case> cases = {
      {"missing", modelmux::Message::UserFiles("x", {(*dir_ / "nope.jpg").string()}),
       "file_unreadable", "messages[0].image_paths[0]"},
      {"text as image", modelmux::Message::UserFiles("x", {text_file}), "unsupported_image_format",
       "messages[0].image_paths[0]"},
      {"second of two", second, "unsupported_image_format", "messages[0].image_paths[1]"},
      {"image as video", modelmux::Message::UserFiles("x", {}, {png}), "unsupported_video_format",
       "messages[0].video_paths[0]"},
      {"empty video url", empty_url, "invalid_request", "messages[0].video_urls"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto reply = client_->chat(Ask(c.message));
    ASSERT_FALSE(reply.ok()) << reply->text;
    EXPECT_EQ(reply.error().kind, "invalid_request");
    EXPECT_EQ(reply.error().http_status, 400);
    EXPECT_EQ(reply.error().code, c.code) << reply.error().ToString();
    EXPECT_EQ(reply.error().param, c.param);
    EXPECT_TRUE(reply.error().provider.empty()) << "refused by the SDK, not a provider";
  }
}

TEST_F(ClientMediaTest, StreamTakesFilesToo) {
  std::string streamed;
  auto done = client_->stream(Ask(modelmux::Message::UserFiles("streamed", {Write("s.png", kPng)})),
                              [&](const modelmux::StreamChunk& c) {
                                streamed += c.text;
                                return true;
                              });
  ASSERT_TRUE(done.ok()) << done.error().ToString();
  EXPECT_EQ(streamed, "[image: png 1x1, 70 bytes]\nstreamed");
}

}  // namespace
