// AVX2 base64 after the published vector algorithms of Wojciech Muła and Daniel Lemire
// ("Faster Base64 Encoding and Decoding Using AVX2 Instructions", 2018): reshuffle 3-byte groups
// into 32-bit lanes, cut 6-bit fields with multiplies, and translate or validate characters with
// 16-entry nibble lookups.

#include "media/base64_avx2.hpp"

#include <immintrin.h>

#define MM_AVX2 __attribute__((target("avx2")))

namespace modelmux::media::base64_avx2 {
namespace {

MM_AVX2 inline __m256i EncodeLanes(__m256i in) {
  // Each 3-byte group a,b,c (12 bytes per 128-bit lane) becomes the 32-bit word [b a c b].
  const __m256i shuffle = _mm256_setr_epi8(1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10,  //
                                           1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10);
  in = _mm256_shuffle_epi8(in, shuffle);
  // Fields 0 and 2 via a high multiply, fields 1 and 3 via a low multiply.
  const __m256i t0 = _mm256_and_si256(in, _mm256_set1_epi32(0x0fc0fc00));
  const __m256i t1 = _mm256_mulhi_epu16(t0, _mm256_set1_epi32(0x04000040));
  const __m256i t2 = _mm256_and_si256(in, _mm256_set1_epi32(0x003f03f0));
  const __m256i t3 = _mm256_mullo_epi16(t2, _mm256_set1_epi32(0x01000010));
  const __m256i idx = _mm256_or_si256(t1, t3);  // one 6-bit index per byte
  // Index ranges to ASCII offsets: 0-25 +65, 26-51 +71, 52-61 -4, 62 -19, 63 -16.
  __m256i sel = _mm256_subs_epu8(idx, _mm256_set1_epi8(51));  // 0 for <=51, 1..12 above
  const __m256i below26 = _mm256_cmpgt_epi8(_mm256_set1_epi8(26), idx);
  sel = _mm256_or_si256(sel, _mm256_and_si256(below26, _mm256_set1_epi8(13)));
  const __m256i offsets =
      _mm256_setr_epi8(71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 65, 0, 0,  //
                       71, -4, -4, -4, -4, -4, -4, -4, -4, -4, -4, -19, -16, 65, 0, 0);
  return _mm256_add_epi8(idx, _mm256_shuffle_epi8(offsets, sel));
}

}  // namespace

MM_AVX2 size_t EncodeBlocks(const uint8_t* in, size_t n, char* out) {
  size_t i = 0;
  // Each lane loads 16 bytes and uses 12; the second load ends at in + i + 28.
  for (; i + 32 <= n; i += 24, out += 32) {
    const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i));
    const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in + i + 12));
    const __m256i v = _mm256_inserti128_si256(_mm256_castsi128_si256(lo), hi, 1);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), EncodeLanes(v));
  }
  return i;
}

MM_AVX2 size_t DecodeBlocks(const char* text, size_t n, uint8_t* out) {
  // Validation: a character is valid iff lut_lo[low nibble] & lut_hi[high nibble] == 0.
  const __m256i lut_lo =
      _mm256_setr_epi8(0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x13, 0x1A, 0x1B,
                       0x1B, 0x1B, 0x1A, 0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                       0x13, 0x1A, 0x1B, 0x1B, 0x1B, 0x1A);
  const __m256i lut_hi =
      _mm256_setr_epi8(0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10, 0x10, 0x10, 0x10,
                       0x10, 0x10, 0x10, 0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10,
                       0x10, 0x10, 0x10, 0x10, 0x10, 0x10);
  // Value = character + roll[high nibble], with '/' moved to its own slot (index 1).
  const __m256i lut_roll =
      _mm256_setr_epi8(0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 19, 4, -65,
                       -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0);
  const __m256i nibble = _mm256_set1_epi8(0x0f);
  const __m256i pack = _mm256_setr_epi8(2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1,  //
                                        2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
  const __m256i gather = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 0, 0);
  size_t i = 0;
  // The 32-byte store at out + i / 4 * 3 must end inside the n / 4 * 3 output bytes.
  for (; i + 44 <= n; i += 32, out += 24) {
    const __m256i in = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(text + i));
    const __m256i hi_nib = _mm256_and_si256(_mm256_srli_epi32(in, 4), nibble);
    const __m256i lo_nib = _mm256_and_si256(in, nibble);
    const __m256i lo = _mm256_shuffle_epi8(lut_lo, lo_nib);
    const __m256i hi = _mm256_shuffle_epi8(lut_hi, hi_nib);
    if (!_mm256_testz_si256(lo, hi)) break;
    const __m256i is_slash = _mm256_cmpeq_epi8(in, _mm256_set1_epi8('/'));
    const __m256i roll = _mm256_shuffle_epi8(lut_roll, _mm256_add_epi8(is_slash, hi_nib));
    const __m256i values = _mm256_add_epi8(in, roll);
    // [a b c d] 6-bit values -> 24-bit words, then 12 bytes per lane, then 24 contiguous.
    const __m256i ab_cd = _mm256_maddubs_epi16(values, _mm256_set1_epi32(0x01400140));
    const __m256i word = _mm256_madd_epi16(ab_cd, _mm256_set1_epi32(0x00011000));
    const __m256i packed = _mm256_shuffle_epi8(word, pack);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out),
                        _mm256_permutevar8x32_epi32(packed, gather));
  }
  return i;
}

}  // namespace modelmux::media::base64_avx2
