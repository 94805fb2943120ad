#include "batch/jsonl.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace modelmux::batch {
namespace {

std::string TempFile(const std::string& content) {
  static int n = 0;
  auto path = std::filesystem::temp_directory_path() /
              ("mm_jsonl_test_" + std::to_string(::getpid()) + "_" + std::to_string(++n));
  std::ofstream(path, std::ios::binary) << content;
  return path.string();
}

std::vector<LineReader::Line> ReadAll(const std::string& content, size_t max = 1 << 20) {
  auto r = LineReader::Open(TempFile(content), max);
  EXPECT_TRUE(r.ok());
  std::vector<LineReader::Line> lines;
  while (auto l = (*r)->Next()) lines.push_back(*l);
  return lines;
}

TEST(LineReader, BomCrlfAndNoFinalNewline) {
  auto lines = ReadAll("\xEF\xBB\xBF{\"a\":1}\r\n{\"b\":2}\r\n\n{\"c\":3}");
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].text, "{\"a\":1}");
  EXPECT_EQ(lines[1].text, "{\"b\":2}");
  EXPECT_EQ(lines[2].text, "");
  EXPECT_EQ(lines[3].text, "{\"c\":3}");
  EXPECT_EQ(lines[3].number, 4u);
}

TEST(LineReader, LongLineIsFlaggedNotKept) {
  std::string big(5000, 'x');
  auto lines = ReadAll("short\n" + big + "\nafter\n", 1000);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_FALSE(lines[0].too_long);
  EXPECT_TRUE(lines[1].too_long);
  EXPECT_TRUE(lines[1].text.empty());
  EXPECT_EQ(lines[2].text, "after");
  EXPECT_EQ(lines[2].number, 3u);
}

TEST(LineReader, MissingFileIsAnError) {
  auto r = LineReader::Open("/nonexistent/dir/x.jsonl", 100);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, "file_unreadable");
}

TEST(ResultKey, CustomIdWinsOverId) {
  EXPECT_EQ(ResultKey(R"({"id":"batch_req_1","custom_id":"r7"})"), "r7");
  EXPECT_EQ(ResultKey(R"({"id":42,"response":"x"})"), "42");
  EXPECT_EQ(ResultKey(R"({"id":"a"})"), "a");
  EXPECT_EQ(ResultKey("not json"), std::nullopt);
  EXPECT_EQ(KeyOfIdJson("\"a\""), "a");
  EXPECT_EQ(KeyOfIdJson("17"), "17");
}

TEST(ScanJsonl, CutsTornLastLine) {
  const std::string good = "{\"id\":\"a\"}\n{\"id\":\"b\"}\n";
  const std::string torn = "{\"id\":\"c\",\"resp";  // no newline: a write cut short
  auto path = TempFile(good + torn);
  auto scan = ScanJsonl(path, true);
  ASSERT_TRUE(scan.ok());
  EXPECT_EQ(scan->lines, 2u);
  EXPECT_EQ(scan->keys.size(), 2u);
  EXPECT_TRUE(scan->keys.contains("a"));
  EXPECT_FALSE(scan->keys.contains("c"));
  EXPECT_EQ(scan->truncated_bytes, torn.size());
  EXPECT_EQ(std::filesystem::file_size(path), good.size());
}

TEST(ScanJsonl, MissingFileIsEmpty) {
  auto scan = ScanJsonl("/tmp/definitely_missing_mm_batch.jsonl", true);
  ASSERT_TRUE(scan.ok());
  EXPECT_EQ(scan->lines, 0u);
}

}  // namespace
}  // namespace modelmux::batch
