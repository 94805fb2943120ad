#pragma once
// The text and cost step of a chat call (docs/TEXT.md), run before the cache key is made and
// before any upstream attempt, so that what it changes is keyed, counted and never paid for twice:
//   1. the request extensions `split_sentences` and `context` are read and removed;
//   2. split_sentences: the last user message's text is re-flowed one sentence per line;
//   3. domain context (the alias's `context`, then the virtual key's, then the request's) becomes
//      one system message after the caller's own system messages;
//   4. a cheaper variant: a short, text-only request to an alias with `cheaper` goes to that model;
//   5. max_tokens: the alias's default when the caller sets none, clamped to its cap (a virtual
//      key's own cap and default were applied at admission, gateway/key_controls.hpp; the
//      tighter cap wins and the header names what the caller asked for);
//   6. pre-flight: prompt tokens (exact where a tokenizer is known, else the conservative
//      estimate) plus max_tokens against the model's context window; too long goes to the alias's
//      context_window_fallback, or is refused with 400 context_length_exceeded before any spend.
// What it did is recorded in the AttemptLog (headers x-modelmux-max-tokens-clamped,
// x-modelmux-context-tokens, x-modelmux-sentences, and notes).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/chat.hpp"
#include "core/request_context.hpp"
#include "core/result.hpp"
#include "routing/config.hpp"
#include "routing/dispatch.hpp"

namespace modelmux::routing {

// Context windows (tokens) of well-known upstream models by name (a provider prefix is ignored);
// nullopt when unknown. From the vendors' model pages; an alias's context_window overrides it.
[[nodiscard]] std::optional<int64_t> KnownContextWindow(std::string_view model);

// The context window of `model` as a caller names it: an alias's context_window, else the
// built-in table for its first deployment's upstream model; nullopt when unknown (or the name
// does not resolve).
[[nodiscard]] std::optional<int64_t> ContextWindowFor(const Config& config, std::string_view model);

struct SplitSpec {
  bool numbered = false;           // "[1] ..." before each sentence
  bool newline_is_break = true;    // text::SplitOptions::newline_is_break
  bool split_on_semicolon = true;  // text::SplitOptions::split_on_semicolon
};

struct TextExtensions {
  std::optional<SplitSpec> split;
  std::string context;  // rendered text, "" when none
};

// Reads and removes `split_sentences` (true, or {numbered, newline_is_break, split_on_semicolon})
// and `context` (a string, or {background: string, glossary: {term: meaning}}) from the request's
// extension members. Errors: kInvalidRequest naming the member.
[[nodiscard]] Result<TextExtensions> TakeTextExtensions(ChatRequest& request);

// The last user message's text parts, one sentence per line; returns the number of sentences.
int SplitLastUserMessage(ChatRequest& request, const SplitSpec& spec);

// Inserts `context` as a system message after the leading system/developer messages.
void AddContext(ChatRequest& request, std::string_view context);

// Whether the gateway's pass-through fast path must give way to the decoded path for this model
// (the alias has cost or context controls, or the body may not fit the model's window).
[[nodiscard]] bool NeedsTextStage(const Config& config, std::string_view model, size_t body_bytes,
                                  std::optional<int64_t> max_tokens);

// The virtual key's domain context carried by a request (RequestContext::key_context), or "".
[[nodiscard]] inline std::string_view KeyContext(const RequestContext& ctx) {
  return ctx.key_context ? std::string_view(*ctx.key_context) : std::string_view();
}

// Steps 1-6 above; `key_context` is the caller's virtual key's context (KeyContext). Errors:
// malformed extensions (400), context_length_exceeded (400).
[[nodiscard]] Status ApplyTextStage(const Config& config, ChatRequest& request, AttemptLog& log,
                                    std::string_view key_context = {});

}  // namespace modelmux::routing
