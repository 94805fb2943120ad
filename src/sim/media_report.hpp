#pragma once
// What the simulator says about the media it received: each image or video a request carries is
// decoded and probed, and the reply starts with one line per item, e.g.
//   [image: jpeg 1568x1045, 301234 bytes]
//   [video: mp4 160x120, 40 frames, 4.0 s, 51234 bytes]
//   [image: url https://example.com/cat.png]
//   [image: unreadable (image_unreadable), 17 bytes]
//   [image: jpeg 4000x3000, 9123456 bytes, file]      (through the file API, sim/files.hpp)
// so tests can check exactly what reached the provider. Pure.

#include <string>
#include <string_view>

namespace modelmux::sim {

enum class MediaKind { kImage, kVideo };

// `source`: a data: URL, an http(s) URL, or (raw_base64) bare base64 as Ollama, Bedrock and
// Gemini's inline_data carry it. `mime` when the wire names it separately.
[[nodiscard]] std::string DescribeMedia(MediaKind kind, std::string_view source,
                                        bool raw_base64 = false, std::string_view mime = {});

// The same line for bytes already decoded; a non-empty `marker` is appended after the byte count
// ("[image: jpeg 800x600, 123456 bytes, file]" for media that arrived through a file API).
[[nodiscard]] std::string DescribeMediaBytes(MediaKind kind, std::string_view bytes,
                                             std::string_view marker = {});

}  // namespace modelmux::sim
