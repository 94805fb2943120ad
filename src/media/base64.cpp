#include "media/base64.hpp"

#include <array>
#include <cstring>

#include "media/base64_avx2.hpp"

namespace modelmux::media {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr uint8_t kBad = 0xFF;

constexpr std::array<uint8_t, 256> MakeValues() {
  std::array<uint8_t, 256> t{};
  for (auto& v : t) v = kBad;
  for (int i = 0; i < 64; ++i) t[static_cast<uint8_t>(kAlphabet[i])] = static_cast<uint8_t>(i);
  return t;
}
constexpr std::array<uint8_t, 256> kValues = MakeValues();

// Four tables giving each character's 6 bits already shifted into a 24-bit group; invalid
// characters give 0xFFFFFFFF, so any invalid character makes the OR of a group >= 2^24.
struct DecodeTables {
  std::array<uint32_t, 256> t[4];
};
constexpr DecodeTables MakeDecodeTables() {
  DecodeTables d{};
  for (int c = 0; c < 256; ++c) {
    const uint8_t v = kValues[c];
    for (int k = 0; k < 4; ++k) {
      d.t[k][c] = v == kBad ? 0xFFFFFFFFu : static_cast<uint32_t>(v) << (18 - 6 * k);
    }
  }
  return d;
}
constexpr DecodeTables kDecode = MakeDecodeTables();

// Every 12-bit value to its two characters.
struct PairTable {
  std::array<char, 2 * 4096> chars;
};
constexpr PairTable MakePairTable() {
  PairTable p{};
  for (int i = 0; i < 4096; ++i) {
    p.chars[2 * i] = kAlphabet[i >> 6];
    p.chars[2 * i + 1] = kAlphabet[i & 63];
  }
  return p;
}
constexpr PairTable kPairs = MakePairTable();

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

// ---- Reference: one character at a time. ----
void ReferenceEncode(const uint8_t* in, size_t n, char* out) {
  size_t i = 0;
  for (; i + 3 <= n; i += 3) {
    const uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
    *out++ = kAlphabet[(v >> 18) & 63];
    *out++ = kAlphabet[(v >> 12) & 63];
    *out++ = kAlphabet[(v >> 6) & 63];
    *out++ = kAlphabet[v & 63];
  }
  if (n - i == 1) {
    const uint32_t v = uint32_t{in[i]} << 16;
    *out++ = kAlphabet[(v >> 18) & 63];
    *out++ = kAlphabet[(v >> 12) & 63];
    *out++ = '=';
    *out++ = '=';
  } else if (n - i == 2) {
    const uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8);
    *out++ = kAlphabet[(v >> 18) & 63];
    *out++ = kAlphabet[(v >> 12) & 63];
    *out++ = kAlphabet[(v >> 6) & 63];
    *out++ = '=';
  }
}

// ---- Scalar fast: whole groups through wide tables. ----
void EncodeTail(const uint8_t* in, size_t n, char* out) {
  ReferenceEncode(in, n, out);
}

void ScalarEncode(const uint8_t* in, size_t n, char* out) {
  size_t i = 0;
  for (; i + 12 <= n; i += 12, out += 16) {
    for (int g = 0; g < 4; ++g) {
      const uint8_t* p = in + i + 3 * g;
      const uint32_t v = (uint32_t{p[0]} << 16) | (uint32_t{p[1]} << 8) | p[2];
      std::memcpy(out + 4 * g, &kPairs.chars[2 * (v >> 12)], 2);
      std::memcpy(out + 4 * g + 2, &kPairs.chars[2 * (v & 0xFFF)], 2);
    }
  }
  for (; i + 3 <= n; i += 3, out += 4) {
    const uint32_t v = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
    std::memcpy(out, &kPairs.chars[2 * (v >> 12)], 2);
    std::memcpy(out + 2, &kPairs.chars[2 * (v & 0xFFF)], 2);
  }
  EncodeTail(in + i, n - i, out);
}

// Decodes the last group (which may carry padding). Returns the bytes written, or -1.
int DecodeLastGroup(const char* q, uint8_t* out) {
  const auto c = [&](int k) { return static_cast<uint8_t>(q[k]); };
  int pad = 0;
  if (q[3] == '=') pad = q[2] == '=' ? 2 : 1;
  const uint32_t v0 = kDecode.t[0][c(0)] | kDecode.t[1][c(1)];
  if (pad == 2) {
    if (v0 >= (1u << 24) || (v0 & 0xFFFF) != 0) return -1;
    out[0] = static_cast<uint8_t>(v0 >> 16);
    return 1;
  }
  const uint32_t v1 = v0 | kDecode.t[2][c(2)];
  if (pad == 1) {
    if (v1 >= (1u << 24) || (v1 & 0xFF) != 0) return -1;
    out[0] = static_cast<uint8_t>(v1 >> 16);
    out[1] = static_cast<uint8_t>(v1 >> 8);
    return 2;
  }
  const uint32_t v = v1 | kDecode.t[3][c(3)];
  if (v >= (1u << 24)) return -1;
  out[0] = static_cast<uint8_t>(v >> 16);
  out[1] = static_cast<uint8_t>(v >> 8);
  out[2] = static_cast<uint8_t>(v);
  return 3;
}

// Decodes full groups without padding from text[0, n) (n a multiple of 4). Returns false on a bad
// character.
bool ScalarDecodeGroups(const char* text, size_t n, uint8_t* out) {
  const auto* s = reinterpret_cast<const uint8_t*>(text);
  for (size_t i = 0; i < n; i += 4, out += 3) {
    const uint32_t v = kDecode.t[0][s[i]] | kDecode.t[1][s[i + 1]] | kDecode.t[2][s[i + 2]] |
                       kDecode.t[3][s[i + 3]];
    if (v >= (1u << 24)) return false;
    out[0] = static_cast<uint8_t>(v >> 16);
    out[1] = static_cast<uint8_t>(v >> 8);
    out[2] = static_cast<uint8_t>(v);
  }
  return true;
}

bool FastDecode(bool avx2, std::string_view text, uint8_t* out, size_t* out_len) {
  const size_t n = text.size();
  *out_len = 0;
  if (n == 0) return true;
  if (n % 4 != 0) return false;
  const size_t body = n - 4;  // the last group is decoded on its own (padding)
  size_t done = 0;            // characters consumed
  if (avx2) done = base64_avx2::DecodeBlocks(text.data(), body, out);
  if (!ScalarDecodeGroups(text.data() + done, body - done, out + done / 4 * 3)) return false;
  const int last = DecodeLastGroup(text.data() + body, out + body / 4 * 3);
  if (last < 0) return false;
  *out_len = body / 4 * 3 + static_cast<size_t>(last);
  return true;
}

Error DecodeError(std::string message, const Base64DecodeOptions& options) {
  return InvalidRequest("invalid base64: " + message, std::string(options.param), "invalid_base64");
}

}  // namespace

namespace base64_impl {

bool Avx2Supported() {
  static const bool supported = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return supported;
}

Impl Dispatched() {
  return Avx2Supported() ? Impl::kAvx2 : Impl::kScalar;
}

std::string_view ImplName(Impl impl) {
  switch (impl) {
    case Impl::kReference:
      return "reference";
    case Impl::kScalar:
      return "scalar";
    case Impl::kAvx2:
      return "avx2";
  }
  return "?";
}

void Encode(Impl impl, const uint8_t* in, size_t n, char* out) {
  switch (impl) {
    case Impl::kReference:
      ReferenceEncode(in, n, out);
      return;
    case Impl::kScalar:
      ScalarEncode(in, n, out);
      return;
    case Impl::kAvx2: {
      const size_t done = base64_avx2::EncodeBlocks(in, n, out);
      ScalarEncode(in + done, n - done, out + done / 3 * 4);
      return;
    }
  }
}

bool Decode(Impl impl, std::string_view text, uint8_t* out, size_t* out_len) {
  if (impl == Impl::kReference) {
    auto r = ReferenceDecode(text);
    if (!r.ok()) return false;
    std::memcpy(out, r->data(), r->size());
    *out_len = r->size();
    return true;
  }
  return FastDecode(impl == Impl::kAvx2, text, out, out_len);
}

Result<std::string> ReferenceDecode(std::string_view text, Base64DecodeOptions options) {
  std::string out;
  out.reserve(text.size() / 4 * 3);
  uint32_t acc = 0;
  int in_group = 0;      // data characters in the current group
  int pad = 0;           // '=' seen
  size_t count = 0;      // significant characters (data and padding)
  size_t last_data = 0;  // offset of the last data character
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (IsAsciiSpace(c)) {
      if (options.lenient) continue;
      return DecodeError("whitespace at offset " + std::to_string(i), options);
    }
    if (c == '=') {
      if (pad == 0 && in_group < 2) {
        return DecodeError("misplaced padding at offset " + std::to_string(i), options);
      }
      ++pad;
      ++count;
      if (in_group + pad > 4) {
        return DecodeError("too much padding at offset " + std::to_string(i), options);
      }
      continue;
    }
    const uint8_t v = kValues[static_cast<uint8_t>(c)];
    if (v == kBad) {
      return DecodeError("invalid character at offset " + std::to_string(i), options);
    }
    if (pad > 0) {
      return DecodeError("data after padding at offset " + std::to_string(i), options);
    }
    acc = (acc << 6) | v;
    last_data = i;
    ++count;
    if (++in_group == 4) {
      out.push_back(static_cast<char>(acc >> 16));
      out.push_back(static_cast<char>(acc >> 8));
      out.push_back(static_cast<char>(acc));
      acc = 0;
      in_group = 0;
    }
  }
  if (count % 4 != 0 || (pad > 0 && in_group + pad != 4)) {
    return DecodeError("truncated input: " + std::to_string(count) +
                           " characters is not a multiple of 4 (offset " +
                           std::to_string(text.size()) + ")",
                       options);
  }
  if (pad > 0) {
    // in_group is 2 (pad 2) or 3 (pad 1); the unused low bits must be zero.
    const int unused_bits = in_group == 2 ? 4 : 2;
    if ((acc & ((1u << unused_bits) - 1)) != 0) {
      return DecodeError("non-zero bits before padding at offset " + std::to_string(last_data),
                         options);
    }
    acc >>= unused_bits;
    if (in_group == 2) {
      out.push_back(static_cast<char>(acc));
    } else {
      out.push_back(static_cast<char>(acc >> 8));
      out.push_back(static_cast<char>(acc));
    }
  }
  return out;
}

}  // namespace base64_impl

void Base64EncodeTo(const uint8_t* in, size_t n, char* out) {
  static const auto impl = base64_impl::Dispatched();
  base64_impl::Encode(impl, in, n, out);
}

std::string Base64Encode(std::string_view bytes) {
  std::string out(Base64EncodedSize(bytes.size()), '\0');
  Base64EncodeTo(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), out.data());
  return out;
}

Result<std::string> Base64Decode(std::string_view text, Base64DecodeOptions options) {
  static const auto impl = base64_impl::Dispatched();
  std::string out(text.size() / 4 * 3, '\0');
  size_t len = 0;
  if (base64_impl::Decode(impl, text, reinterpret_cast<uint8_t*>(out.data()), &len)) {
    out.resize(len);
    return out;
  }
  if (options.lenient) {
    std::string compact;
    compact.reserve(text.size());
    for (char c : text) {
      if (!IsAsciiSpace(c)) compact.push_back(c);
    }
    if (compact.size() != text.size()) {
      out.assign(compact.size() / 4 * 3, '\0');
      if (base64_impl::Decode(impl, compact, reinterpret_cast<uint8_t*>(out.data()), &len)) {
        out.resize(len);
        return out;
      }
    }
  }
  // Malformed: the reference decoder says exactly where.
  return base64_impl::ReferenceDecode(text, options);
}

}  // namespace modelmux::media
