#include "modelmux/text.hpp"

#include "text/chunker.hpp"
#include "text/count.hpp"
#include "text/sentences.hpp"

namespace modelmux::sdk {

namespace {

text::SplitOptions CoreOptions(const SentenceOptions& options) {
  text::SplitOptions out;
  out.newline_is_break = options.newline_is_break;
  out.split_on_semicolon = options.split_on_semicolon;
  return out;
}

}  // namespace

TokenCount CountTokens(std::string_view model, std::string_view text) {
  const text::TokenCount c = text::CountText(model, text);
  return TokenCount{c.tokens, c.exact, c.encoding};
}

std::vector<std::string> SplitSentences(std::string_view text, const SentenceOptions& options) {
  std::vector<std::string> out;
  for (std::string_view s : text::SplitSentences(text, CoreOptions(options))) {
    out.emplace_back(s);
  }
  return out;
}

std::vector<std::string> ChunkText(std::string_view model, std::string_view text,
                                   int64_t max_tokens, const SentenceOptions& options) {
  text::ChunkOptions chunking;
  chunking.max_tokens = max_tokens;
  chunking.split = CoreOptions(options);
  const std::string counting_model(model);
  std::vector<std::string> out;
  for (const auto& chunk : text::PackSentences(text, chunking, [&](std::string_view t) {
         return text::CountText(counting_model, t).tokens;
       })) {
    out.emplace_back(chunk.text);
  }
  return out;
}

}  // namespace modelmux::sdk
