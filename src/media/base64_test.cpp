#include "media/base64.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <optional>
#include <random>
#include <vector>

namespace modelmux::media {
namespace {

using base64_impl::Impl;

std::vector<Impl> Impls() {
  std::vector<Impl> v{Impl::kReference, Impl::kScalar};
  if (base64_impl::Avx2Supported()) v.push_back(Impl::kAvx2);
  return v;
}

std::string EncodeWith(Impl impl, std::string_view bytes) {
  std::string out(Base64EncodedSize(bytes.size()), '\0');
  base64_impl::Encode(impl, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                      out.data());
  return out;
}

// nullopt when the decoder refuses the input.
std::optional<std::string> DecodeWith(Impl impl, std::string_view text) {
  std::string out(text.size() / 4 * 3, '\0');
  size_t len = 0;
  if (!base64_impl::Decode(impl, text, reinterpret_cast<uint8_t*>(out.data()), &len)) {
    return std::nullopt;
  }
  out.resize(len);
  return out;
}

std::string RandomBytes(std::mt19937& rng, size_t n) {
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xFF);
  return s;
}

TEST(Base64, Rfc4648Vectors) {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},
                                                         {"f", "Zg=="},
                                                         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},
                                                         {"foob", "Zm9vYg=="},
                                                         {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    for (Impl impl : Impls()) {
      EXPECT_EQ(EncodeWith(impl, plain), encoded) << base64_impl::ImplName(impl);
      EXPECT_EQ(DecodeWith(impl, encoded), std::string(plain)) << base64_impl::ImplName(impl);
    }
    auto d = Base64Decode(encoded);
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(*d, plain);
  }
}

TEST(Base64, AllByteValuesAndAlphabet) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (Impl impl : Impls()) {
    const std::string e = EncodeWith(impl, all + all);
    // Every alphabet character appears, and only those.
    for (char c : e)
      EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=');
    EXPECT_NE(e.find('+'), std::string::npos);
    EXPECT_NE(e.find('/'), std::string::npos);
    EXPECT_EQ(DecodeWith(impl, e), all + all);
  }
}

TEST(Base64, RoundTripEveryLengthTo300AllImplsAgree) {
  std::mt19937 rng(42);
  for (size_t n = 0; n <= 300; ++n) {
    const std::string bytes = RandomBytes(rng, n);
    const std::string ref = EncodeWith(Impl::kReference, bytes);
    ASSERT_EQ(ref.size(), Base64EncodedSize(n));
    for (Impl impl : Impls()) {
      ASSERT_EQ(EncodeWith(impl, bytes), ref) << base64_impl::ImplName(impl) << " n=" << n;
      ASSERT_EQ(DecodeWith(impl, ref), bytes) << base64_impl::ImplName(impl) << " n=" << n;
    }
    EXPECT_EQ(Base64Encode(bytes), ref);
    auto d = Base64Decode(ref);
    ASSERT_TRUE(d.ok()) << n;
    EXPECT_EQ(*d, bytes);
  }
}

TEST(Base64, RoundTripRandomLargeSizes) {
  std::mt19937 rng(7);
  for (int k = 0; k < 20; ++k) {
    const size_t n = rng() % 200000;
    const std::string bytes = RandomBytes(rng, n);
    const std::string ref = EncodeWith(Impl::kReference, bytes);
    for (Impl impl : Impls()) {
      ASSERT_EQ(EncodeWith(impl, bytes), ref) << base64_impl::ImplName(impl) << " n=" << n;
      ASSERT_EQ(DecodeWith(impl, ref), bytes) << base64_impl::ImplName(impl) << " n=" << n;
    }
  }
}

void ExpectDecodeError(std::string_view text, std::string_view fragment, bool lenient = false) {
  auto r = Base64Decode(text, {.lenient = lenient, .param = "image"});
  ASSERT_FALSE(r.ok()) << text;
  EXPECT_EQ(r.error().kind, ErrorKind::kInvalidRequest);
  EXPECT_EQ(r.error().code, "invalid_base64");
  EXPECT_EQ(r.error().param, "image");
  EXPECT_NE(r.error().message.find(fragment), std::string::npos)
      << "'" << text << "' gave: " << r.error().message;
  for (Impl impl : Impls()) {
    if (!lenient) {
      EXPECT_FALSE(DecodeWith(impl, text).has_value()) << base64_impl::ImplName(impl);
    }
  }
}

TEST(Base64, RejectsMalformedWithOffset) {
  ExpectDecodeError("Zm9v!mFy", "invalid character at offset 4");
  ExpectDecodeError("Zm9vYmF", "not a multiple of 4");
  ExpectDecodeError("Zg=", "not a multiple of 4");
  ExpectDecodeError("Z===", "misplaced padding at offset 1");
  ExpectDecodeError("====", "misplaced padding at offset 0");
  ExpectDecodeError("Zm=v", "data after padding at offset 3");
  ExpectDecodeError("Zg==Zm9v", "data after padding at offset 4");
  ExpectDecodeError("Zm9=Zg==", "data after padding at offset 4");
  ExpectDecodeError("Zh==", "non-zero bits before padding at offset 1");
  ExpectDecodeError("Zm9=", "non-zero bits before padding at offset 2");
  ExpectDecodeError("Zm9v\nYmFy", "whitespace at offset 4");
  ExpectDecodeError(" Zm9v", "whitespace at offset 0");
  ExpectDecodeError(std::string("Zm9v\0mFy", 8), "invalid character at offset 4");
  ExpectDecodeError("Zm9v\xC3\xA9mFy", "invalid character at offset 4");
  ExpectDecodeError("Zm-v", "invalid character at offset 2");  // base64url is not accepted
  ExpectDecodeError("Zm9\nv", "whitespace at offset 3");
}

TEST(Base64, RejectsBadCharacterDeepInsideLongInput) {
  std::string text = Base64Encode(std::string(3000, 'x'));
  text[2345] = '*';
  ExpectDecodeError(text, "invalid character at offset 2345");
  text[2345] = 'x';
  text[2346] = '=';
  ExpectDecodeError(text, "data after padding at offset 2347");
}

TEST(Base64, LenientSkipsAsciiWhitespaceOnly) {
  const std::string bytes(1000, '\x9c');
  std::string wrapped;
  const std::string e = Base64Encode(bytes);
  for (size_t i = 0; i < e.size(); i += 76) wrapped += e.substr(i, 76) + "\r\n";
  auto strict = Base64Decode(wrapped);
  EXPECT_FALSE(strict.ok());
  auto lenient = Base64Decode(wrapped, {.lenient = true});
  ASSERT_TRUE(lenient.ok()) << lenient.error().message;
  EXPECT_EQ(*lenient, bytes);
  auto spaced = Base64Decode(" Zm9v\tYm\vFy\f ", {.lenient = true});
  ASSERT_TRUE(spaced.ok());
  EXPECT_EQ(*spaced, "foobar");
  // Whitespace does not excuse other errors, and offsets stay those of the original text.
  ExpectDecodeError("Zm9v\nYm*y", "invalid character at offset 7", /*lenient=*/true);
  ExpectDecodeError("Zm9v\nYmF", "not a multiple of 4", /*lenient=*/true);
  // Non-ASCII whitespace (NBSP) is not whitespace here.
  ExpectDecodeError("Zm9v\xC2\xA0YmFy", "invalid character at offset 4", /*lenient=*/true);
}

// Fuzz-style: random bytes, lengths and corruptions; the fast paths must agree with the reference
// on both the output and the accept/reject verdict.
TEST(Base64, FuzzFastAgainstReference) {
  std::mt19937 rng(20261129);
  const char interesting[] = "=+/ \n\r\tA-_*\x80\xff";
  for (int iter = 0; iter < 10000; ++iter) {
    const size_t n = rng() % 400;
    const std::string bytes = RandomBytes(rng, n);
    const std::string ref = EncodeWith(Impl::kReference, bytes);
    for (Impl impl : Impls()) {
      ASSERT_EQ(EncodeWith(impl, bytes), ref) << iter;
    }
    // Decode random text (mostly invalid) and corrupted valid text.
    std::string text = (iter % 2 == 0) ? ref : RandomBytes(rng, rng() % 200);
    const int edits = static_cast<int>(rng() % 3);
    for (int e = 0; e < edits && !text.empty(); ++e) {
      text[rng() % text.size()] = interesting[rng() % (sizeof(interesting) - 1)];
    }
    const auto expected = DecodeWith(Impl::kReference, text);
    for (Impl impl : Impls()) {
      ASSERT_EQ(DecodeWith(impl, text), expected) << iter << " " << base64_impl::ImplName(impl);
    }
    auto pub = Base64Decode(text);
    ASSERT_EQ(pub.ok(), expected.has_value()) << iter;
    if (pub.ok()) {
      ASSERT_EQ(*pub, *expected);
    }
  }
}

}  // namespace
}  // namespace modelmux::media
