// Golden cases for SplitSentences: src/text/testdata/sentences/*.txt (format in README.md there).

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "text/sentences.hpp"
#include "text/sentences_chars.hpp"

namespace modelmux::text {
namespace {

struct GoldenCase {
  std::string file;
  std::string name;
  SplitOptions options;
  std::string input;
  std::vector<std::string> expected;
};

void AppendUtf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

// Expands \n \r \t \s \\ \xHH \u{HEX}; anything else after a backslash is kept as is.
std::string Unescape(const std::string& line) {
  std::string out;
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] != '\\' || i + 1 == line.size()) {
      out += line[i];
      continue;
    }
    const char e = line[++i];
    if (e == 'n') {
      out += '\n';
    } else if (e == 'r') {
      out += '\r';
    } else if (e == 't') {
      out += '\t';
    } else if (e == 's') {
      out += ' ';
    } else if (e == '\\') {
      out += '\\';
    } else if (e == 'x' && i + 2 < line.size()) {
      out += static_cast<char>(std::stoi(line.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else if (e == 'u' && i + 1 < line.size() && line[i + 1] == '{') {
      const size_t close = line.find('}', i);
      AppendUtf8(out,
                 static_cast<char32_t>(std::stoul(line.substr(i + 2, close - i - 2), nullptr, 16)));
      i = close;
    } else {
      out += '\\';
      out += e;
    }
  }
  return out;
}

SplitOptions ParseOptions(const std::string& spec) {
  SplitOptions o;
  std::istringstream in(spec);
  std::string item;
  while (in >> item) {
    const size_t eq = item.find('=');
    const std::string key = item.substr(0, eq);
    const std::string value = eq == std::string::npos ? "" : item.substr(eq + 1);
    if (key == "newline_is_break") {
      o.newline_is_break = value == "true";
    } else if (key == "split_on_semicolon") {
      o.split_on_semicolon = value == "true";
    } else if (key == "abbreviations") {
      o.abbreviations.clear();
      std::istringstream list(value);
      std::string a;
      while (std::getline(list, a, ',')) o.abbreviations.push_back(a);
    } else {
      ADD_FAILURE() << "unknown option " << key;
    }
  }
  return o;
}

std::vector<GoldenCase> LoadCases() {
  std::vector<GoldenCase> cases;
  const std::filesystem::path dir =
      std::filesystem::path(MODELMUX_TESTDATA_DIR) / "testdata" / "sentences";
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".txt") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& path : files) {
    std::ifstream in(path);
    std::string line;
    GoldenCase* current = nullptr;
    bool in_expected = false;
    std::vector<std::string> input_lines;
    auto finish_input = [&] {
      std::string joined;
      for (size_t i = 0; i < input_lines.size(); ++i) joined += (i ? "\n" : "") + input_lines[i];
      current->input = Unescape(joined);
      input_lines.clear();
    };
    while (std::getline(in, line)) {
      if (line.rfind("=====", 0) == 0) {
        if (current != nullptr && !in_expected) ADD_FAILURE() << "no ----- in " << current->name;
        GoldenCase c;
        c.file = path.filename().string();
        std::string header = line.substr(5);
        const size_t bar = header.find('|');
        if (bar != std::string::npos) {
          c.options = ParseOptions(header.substr(bar + 1));
          header = header.substr(0, bar);
        }
        c.name = std::string(detail::TrimSpace(header));
        cases.push_back(std::move(c));
        current = &cases.back();
        in_expected = false;
      } else if (current == nullptr) {
        continue;  // comment before the first case
      } else if (!in_expected && line == "-----") {
        finish_input();
        in_expected = true;
      } else if (!in_expected) {
        input_lines.push_back(line);
      } else if (!line.empty()) {
        current->expected.push_back(Unescape(line));
      }
    }
  }
  return cases;
}

std::string Show(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += "  [" + s + "]\n";
  return out;
}

TEST(SentencesGoldenTest, AllCases) {
  const std::vector<GoldenCase> cases = LoadCases();
  ASSERT_GE(cases.size(), 40u);
  for (const GoldenCase& c : cases) {
    SCOPED_TRACE(c.file + ": " + c.name);
    const std::vector<std::string_view> got = SplitSentences(c.input, c.options);
    const std::vector<std::string> got_strings(got.begin(), got.end());
    EXPECT_EQ(got_strings, c.expected) << "got:\n"
                                       << Show(got_strings) << "expected:\n"
                                       << Show(c.expected);
    // The pieces are views into the input, in order.
    size_t prev_end = 0;
    for (std::string_view piece : got) {
      ASSERT_GE(piece.data(), c.input.data());
      const auto offset = static_cast<size_t>(piece.data() - c.input.data());
      EXPECT_GE(offset, prev_end);
      prev_end = offset + piece.size();
      EXPECT_LE(prev_end, c.input.size());
    }
  }
}

}  // namespace
}  // namespace modelmux::text
