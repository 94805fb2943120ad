// `modelmux tokens [--model M] [--split] [--json] FILE|-`: the token count of a file's text for a
// model (exact with OpenAI's tokenizers where the model's encoding is known, else the conservative
// estimate), optionally with the sentence split and each sentence's count. No config is read and
// no provider is called.

#include <boost/json.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

#include "cli/commands.hpp"
#include "text/count.hpp"
#include "text/sentences.hpp"

namespace modelmux::cli {

namespace {

Result<std::string> ReadInput(const std::string& file) {
  std::ostringstream buf;
  if (file == "-") {
    buf << std::cin.rdbuf();
    return buf.str();
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return InvalidRequest("cannot read " + file + ": " + std::strerror(errno), "file");
  buf << in.rdbuf();
  if (in.bad()) return InvalidRequest("cannot read " + file, "file");
  return buf.str();
}

// "exact, o200k_base" or "estimate".
std::string Kind(const text::TokenCount& c) {
  return c.exact ? "exact, " + c.encoding : std::string(text::kEstimateEncoding);
}

}  // namespace

void AddTokensFlags(CLI::App& cmd, TokensArgs& a) {
  cmd.add_option("file", a.file, "A UTF-8 text file, or - for standard input")->required();
  cmd.add_option("--model,-m", a.model, "Model whose tokenizer counts")->capture_default_str();
  cmd.add_flag("--split", a.split, "Also print each sentence with its count, one per line");
  cmd.add_flag("--json", a.json, "Print the counts as JSON");
}

int RunTokens(const TokensArgs& a) {
  auto input = ReadInput(a.file);
  if (!input.ok()) return Fail(input.error());
  const std::string& content = *input;
  const text::TokenCount total = text::CountText(a.model, content);
  std::vector<std::pair<std::string_view, text::TokenCount>> sentences;
  if (a.split) {
    for (std::string_view s : text::SplitSentences(content)) {
      sentences.emplace_back(s, text::CountText(a.model, s));
    }
  }
  if (a.json) {
    boost::json::object o{{"model", a.model},
                          {"tokens", total.tokens},
                          {"exact", total.exact},
                          {"encoding", total.encoding}};
    if (a.split) {
      boost::json::array list;
      for (const auto& [s, c] : sentences) {
        list.push_back(boost::json::object{{"text", s}, {"tokens", c.tokens}});
      }
      o["sentences"] = std::move(list);
    }
    std::printf("%s\n", boost::json::serialize(o).c_str());
    return 0;
  }
  std::printf("%lld tokens (%s)\n", static_cast<long long>(total.tokens), Kind(total).c_str());
  for (const auto& [s, c] : sentences) {
    std::printf("%lld\t%.*s\n", static_cast<long long>(c.tokens), static_cast<int>(s.size()),
                s.data());
  }
  return 0;
}

}  // namespace modelmux::cli
