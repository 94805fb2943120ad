#pragma once
// Base64 (RFC 4648 section 4: standard alphabet, '=' padding), fast. Encoding and decoding pick the
// best implementation for the CPU once (AVX2 when present, else a portable table-driven path that
// works on whole groups); a plain reference implementation is kept for tests and benchmarks.
//
// Decoding is strict: every character must be in the alphabet, the length a multiple of four,
// padding only at the very end (one or two '='), and the unused bits of the last group zero. With
// `lenient`, ASCII whitespace (space, \t, \n, \v, \f, \r) anywhere is skipped (wrapped data URLs).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace modelmux::media {

struct Base64DecodeOptions {
  bool lenient = false;         // skip ASCII whitespace
  std::string_view param = {};  // request field named in errors, e.g. "messages[0].content[1]"
};

// Length of the encoding of `n` bytes (with padding).
[[nodiscard]] constexpr size_t Base64EncodedSize(size_t n) {
  return (n + 2) / 3 * 4;
}

[[nodiscard]] std::string Base64Encode(std::string_view bytes);
// Writes exactly Base64EncodedSize(n) characters to `out`.
void Base64EncodeTo(const uint8_t* in, size_t n, char* out);

// Errors: kInvalidRequest, code "invalid_base64", the message names the offset (in `text`).
[[nodiscard]] Result<std::string> Base64Decode(std::string_view text,
                                               Base64DecodeOptions options = {});

// ---- Implementation choice, exposed for tests and benchmarks. ----
namespace base64_impl {

enum class Impl { kReference, kScalar, kAvx2 };

[[nodiscard]] bool Avx2Supported();
// The implementation Base64Encode/Base64Decode use on this CPU.
[[nodiscard]] Impl Dispatched();
[[nodiscard]] std::string_view ImplName(Impl impl);

// Encodes with the given implementation (kAvx2 requires Avx2Supported()).
void Encode(Impl impl, const uint8_t* in, size_t n, char* out);
// Strict decode without error details: returns false on any malformed input. `out` must hold
// text.size() / 4 * 3 bytes; *out_len receives the decoded length.
[[nodiscard]] bool Decode(Impl impl, std::string_view text, uint8_t* out, size_t* out_len);
// The reference decoder with full error reporting (and lenient support).
[[nodiscard]] Result<std::string> ReferenceDecode(std::string_view text,
                                                  Base64DecodeOptions options = {});

}  // namespace base64_impl
}  // namespace modelmux::media
