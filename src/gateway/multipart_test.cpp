#include "gateway/multipart.hpp"

#include <gtest/gtest.h>

namespace modelmux::gateway {
namespace {

TEST(Multipart, BoundaryFromContentType) {
  EXPECT_EQ(MultipartBoundary("multipart/form-data; boundary=abc123"), "abc123");
  EXPECT_EQ(MultipartBoundary("Multipart/Form-Data; charset=utf-8; boundary=\"a;b c\""), "a;b c");
  EXPECT_EQ(MultipartBoundary("application/json"), "");
  EXPECT_EQ(MultipartBoundary("multipart/form-data"), "");
}

TEST(Multipart, PartsWithNamesFilenamesAndBinaryData) {
  const std::string data("line1\r\n--not-the-boundary\r\n\0x", 31);
  const std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\nbatch\r\n"
      "--XyZ\r\ncontent-disposition: form-data; name=\"file\"; "
      "filename=\"in.jsonl\"\r\nContent-Type: application/jsonl\r\n\r\n" +
      data + "\r\n--XyZ--\r\n";
  auto parts = ParseMultipart(body, "XyZ");
  ASSERT_TRUE(parts.ok()) << parts.error().message;
  ASSERT_EQ(parts->size(), 2u);
  EXPECT_EQ((*parts)[0].name, "purpose");
  EXPECT_EQ((*parts)[0].data, "batch");
  EXPECT_EQ((*parts)[0].filename, "");
  EXPECT_EQ((*parts)[1].name, "file");
  EXPECT_EQ((*parts)[1].filename, "in.jsonl");
  EXPECT_EQ((*parts)[1].content_type, "application/jsonl");
  EXPECT_EQ((*parts)[1].data, data);
}

TEST(Multipart, MalformedBodiesAreRefused) {
  for (const std::string body : {
           std::string("no boundary here"),
           std::string(
               "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue"),  // unclosed
           std::string("--B\r\nContent-Type: text/plain\r\n\r\nx\r\n--B--"),       // no name
           std::string("--Bjunk"),
       }) {
    auto parts = ParseMultipart(body, "B");
    ASSERT_FALSE(parts.ok()) << body;
    EXPECT_EQ(parts.error().code, "invalid_multipart");
    EXPECT_EQ(parts.error().HttpStatus(), 400);
  }
}

TEST(Multipart, EmptyFormIsJustTheClosingBoundary) {
  auto parts = ParseMultipart("--B--\r\n", "B");
  ASSERT_TRUE(parts.ok());
  EXPECT_TRUE(parts->empty());
}

}  // namespace
}  // namespace modelmux::gateway
