#pragma once
// Media named on a command line or in SDK code: a local file path becomes a data: URL (its type
// sniffed from its bytes, never from its extension); http(s) and data: URLs are kept as they
// are. Only the CLI and the SDK call this: the gateway never reads local files.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace modelmux::media {

enum class MediaArgKind { kImage, kVideo };

// Errors: kInvalidRequest naming `param` (or the path): unreadable file ("file_unreadable"),
// larger than max_bytes ("media_too_large"), not an image / not a video
// ("unsupported_image_format" / "unsupported_video_format").
[[nodiscard]] Result<std::string> MediaArgToUrl(std::string_view arg, MediaArgKind kind,
                                                uint64_t max_bytes = 512ull << 20,
                                                std::string_view param = {});

}  // namespace modelmux::media
