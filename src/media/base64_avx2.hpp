#pragma once
// AVX2 block loops of the base64 codec (internal). Call only when the CPU supports AVX2.

#include <cstddef>
#include <cstdint>

namespace modelmux::media::base64_avx2 {

// Encodes whole 24-byte blocks while at least 32 input bytes remain readable; returns the input
// bytes consumed (a multiple of 3). Output: consumed / 3 * 4 characters.
size_t EncodeBlocks(const uint8_t* in, size_t n, char* out);

// Decodes whole 32-character blocks of text[0, n) while the 32-byte stores stay inside the
// n / 4 * 3 output bytes; stops before the first block holding a character outside the alphabet.
// Returns the characters consumed (a multiple of 32).
size_t DecodeBlocks(const char* text, size_t n, uint8_t* out);

}  // namespace modelmux::media::base64_avx2
