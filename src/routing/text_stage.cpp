#include "routing/text_stage.hpp"

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cctype>
#include <utility>

#include "routing/resolver.hpp"
#include "text/count.hpp"
#include "text/sentences.hpp"

namespace modelmux::routing {
namespace json = boost::json;

namespace {

struct WindowEntry {
  std::string_view prefix;  // the model name starts with this
  int64_t tokens;
};

// Longest prefix first where prefixes overlap (gpt-4o before gpt-4, o4-mini before o4).
// Sources: the vendors' model pages (OpenAI, Anthropic, Google, DeepSeek, Alibaba Cloud, Zhipu,
// Moonshot), as listed in 2025-2026. A name ending in -8k/-32k/-128k (Moonshot, ERNIE) is read
// from the name itself.
constexpr std::array kWindows = {
    WindowEntry{"gpt-4.1", 1'047'576},
    WindowEntry{"gpt-4o", 128'000},
    WindowEntry{"gpt-4-turbo", 128'000},
    WindowEntry{"gpt-5", 400'000},
    WindowEntry{"gpt-3.5-turbo", 16'385},
    WindowEntry{"o4-mini", 200'000},
    WindowEntry{"o3", 200'000},
    WindowEntry{"o1", 200'000},
    WindowEntry{"claude-", 200'000},
    WindowEntry{"gemini-2.5-", 1'048'576},
    WindowEntry{"gemini-2.0-", 1'048'576},
    WindowEntry{"gemini-1.5-pro", 2'097'152},
    WindowEntry{"gemini-1.5-flash", 1'048'576},
    WindowEntry{"deepseek-chat", 128'000},
    WindowEntry{"deepseek-reasoner", 128'000},
    WindowEntry{"qwen-max", 32'768},
    WindowEntry{"qwen-plus", 131'072},
    WindowEntry{"qwen-turbo", 1'000'000},
    WindowEntry{"glm-4.5", 128'000},
    WindowEntry{"glm-4-plus", 128'000},
    WindowEntry{"glm-4-flash", 128'000},
    WindowEntry{"kimi-k2", 131'072},
};

// "-8k" / "-32k" / "-128k" at the end of a name (optionally before a date or "-preview").
std::optional<int64_t> WindowFromSuffix(std::string_view model) {
  for (auto [suffix, tokens] :
       {std::pair<std::string_view, int64_t>{"-8k", 8'192}, {"-32k", 32'768}, {"-128k", 131'072}}) {
    const size_t at = model.find(suffix);
    if (at == std::string_view::npos) continue;
    const size_t end = at + suffix.size();
    if (end == model.size() || model[end] == '-') return tokens;
  }
  return std::nullopt;
}

Error BadExtension(std::string message, std::string param) {
  Error e = InvalidRequest(std::move(message), std::move(param));
  e.code = "invalid_extension";
  return e;
}

Result<SplitSpec> ParseSplit(const json::value& v) {
  SplitSpec spec;
  if (v.is_bool()) return spec;
  if (!v.is_object()) {
    return BadExtension("split_sentences must be true or an object", "split_sentences");
  }
  for (const auto& [key, value] : v.get_object()) {
    bool* field = nullptr;
    if (key == "numbered") field = &spec.numbered;
    if (key == "newline_is_break") field = &spec.newline_is_break;
    if (key == "split_on_semicolon") field = &spec.split_on_semicolon;
    if (field == nullptr) {
      return BadExtension("split_sentences has no member '" + std::string(key) +
                              "' (numbered, newline_is_break, split_on_semicolon)",
                          "split_sentences." + std::string(key));
    }
    if (!value.is_bool()) {
      return BadExtension("split_sentences." + std::string(key) + " must be a boolean",
                          "split_sentences." + std::string(key));
    }
    *field = value.get_bool();
  }
  return spec;
}

Result<std::string> RenderContext(const json::value& v) {
  if (v.is_string()) return std::string(v.get_string());
  if (!v.is_object()) {
    return BadExtension("context must be a string or {background, glossary}", "context");
  }
  std::string background, glossary;
  for (const auto& [key, value] : v.get_object()) {
    if (key == "background") {
      if (!value.is_string())
        return BadExtension("context.background must be a string", "context.background");
      background = value.get_string();
    } else if (key == "glossary") {
      if (!value.is_object()) {
        return BadExtension("context.glossary must be an object of term: meaning",
                            "context.glossary");
      }
      for (const auto& [term, meaning] : value.get_object()) {
        if (!meaning.is_string()) {
          return BadExtension("context.glossary." + std::string(term) + " must be a string",
                              "context.glossary");
        }
        glossary += "- ";
        glossary.append(term.data(), term.size());
        glossary += ": ";
        glossary.append(meaning.get_string().data(), meaning.get_string().size());
        glossary += '\n';
      }
    } else {
      return BadExtension("context has no member '" + std::string(key) + "' (background, glossary)",
                          "context." + std::string(key));
    }
  }
  std::string out;
  if (!background.empty()) out += "Background:\n" + background;
  if (!glossary.empty()) {
    if (!out.empty()) out += "\n\n";
    out += "Glossary:\n" + glossary;
    out.pop_back();  // the last '\n'
  }
  return out;
}

bool HasNonTextParts(const ChatRequest& request) {
  for (const auto& m : request.messages) {
    for (const auto& p : m.content) {
      if (p.type != PartType::kText) return true;
    }
  }
  return false;
}

// An upper bound on the prompt's real tokens without tokenizing: every token is at least one byte
// of text, plus a few framing tokens per message. nullopt when the request has media or tools
// (their token costs are not bounded by bytes).
std::optional<int64_t> PromptTokenBound(const ChatRequest& request) {
  if (!request.tools.empty()) return std::nullopt;
  int64_t bytes = 16;  // reply priming and slack
  for (const auto& m : request.messages) {
    bytes += 8 + static_cast<int64_t>(m.name.size());
    for (const auto& p : m.content) {
      if (p.type != PartType::kText) return std::nullopt;
      bytes += static_cast<int64_t>(p.text.size());
    }
    for (const auto& tc : m.tool_calls) {
      bytes += 8 + static_cast<int64_t>(tc.name.size() + tc.arguments.size());
    }
  }
  return bytes;
}

// The upstream model name a count should use (the alias's first deployment), else the name.
std::string CountingModel(const Config& config, std::string_view model) {
  auto resolved = ResolveModel(config, model);
  return resolved.ok() ? resolved->model : std::string(model);
}

}  // namespace

std::optional<int64_t> KnownContextWindow(std::string_view model) {
  model = text::StripProviderPrefix(model);
  if (auto w = WindowFromSuffix(model)) return w;
  for (const auto& e : kWindows) {
    if (model.starts_with(e.prefix)) return e.tokens;
  }
  return std::nullopt;
}

std::optional<int64_t> ContextWindowFor(const Config& config, std::string_view model) {
  if (const ModelAlias* alias = config.FindAlias(model); alias && alias->context_window) {
    return static_cast<int64_t>(*alias->context_window);
  }
  auto resolved = ResolveModel(config, model);
  if (!resolved.ok()) return std::nullopt;
  return KnownContextWindow(resolved->model);
}

Result<TextExtensions> TakeTextExtensions(ChatRequest& request) {
  TextExtensions out;
  if (request.extra.empty() || (request.extra.find("\"context\"") == std::string::npos &&
                                request.extra.find("\"split_sentences\"") == std::string::npos)) {
    return out;
  }
  boost::system::error_code ec;
  json::value v = json::parse(request.extra, ec);
  if (ec || !v.is_object()) return out;
  json::object& extra = v.get_object();
  bool changed = false;
  if (auto it = extra.find("split_sentences"); it != extra.end()) {
    if (!(it->value().is_bool() && !it->value().get_bool())) {
      MM_TRY(SplitSpec spec, ParseSplit(it->value()));
      out.split = spec;
    }
    extra.erase(it);
    changed = true;
  }
  if (auto it = extra.find("context"); it != extra.end()) {
    if (!it->value().is_null()) {
      MM_TRY(out.context, RenderContext(it->value()));
    }
    extra.erase(it);
    changed = true;
  }
  if (changed) request.extra = extra.empty() ? std::string() : json::serialize(extra);
  return out;
}

int SplitLastUserMessage(ChatRequest& request, const SplitSpec& spec) {
  for (auto it = request.messages.rbegin(); it != request.messages.rend(); ++it) {
    if (it->role != Role::kUser) continue;
    text::SplitOptions options;
    options.newline_is_break = spec.newline_is_break;
    options.split_on_semicolon = spec.split_on_semicolon;
    int count = 0;
    for (auto& part : it->content) {
      if (part.type != PartType::kText) continue;
      std::string flowed;
      for (std::string_view s : text::SplitSentences(part.text, options)) {
        if (!flowed.empty()) flowed += '\n';
        ++count;
        if (spec.numbered) flowed += "[" + std::to_string(count) + "] ";
        flowed.append(s.data(), s.size());
      }
      part.text = std::move(flowed);
    }
    return count;
  }
  return 0;
}

void AddContext(ChatRequest& request, std::string_view context) {
  if (context.empty()) return;
  Message m;
  m.role = Role::kSystem;
  ContentPart part;
  part.text = std::string(context);
  m.content.push_back(std::move(part));
  auto at = std::find_if(request.messages.begin(), request.messages.end(), [](const Message& x) {
    return x.role != Role::kSystem && x.role != Role::kDeveloper;
  });
  request.messages.insert(at, std::move(m));
}

bool NeedsTextStage(const Config& config, std::string_view model, size_t body_bytes,
                    std::optional<int64_t> max_tokens) {
  if (const ModelAlias* alias = config.FindAlias(model)) {
    if (!alias->context.empty() || alias->max_tokens_default || alias->max_tokens_cap ||
        alias->cheaper) {
      return true;
    }
  }
  // A token is at least one byte of the body, so a body shorter than the window always fits.
  const auto window = ContextWindowFor(config, model);
  return window && static_cast<int64_t>(body_bytes) + max_tokens.value_or(0) > *window;
}

Status ApplyTextStage(const Config& config, ChatRequest& request, AttemptLog& log,
                      std::string_view key_context) {
  MM_TRY(TextExtensions ext, TakeTextExtensions(request));
  if (ext.split) log.sentences = SplitLastUserMessage(request, *ext.split);

  const ModelAlias* alias = config.FindAlias(request.model);
  // The route's context, then the key's, then the request's own.
  std::string context = alias ? alias->context : std::string();
  for (std::string_view more : {key_context, std::string_view(ext.context)}) {
    if (more.empty()) continue;
    if (!context.empty()) context += "\n\n";
    context.append(more.data(), more.size());
  }
  if (!context.empty()) {
    AddContext(request, context);
    log.context_tokens = text::CountText(CountingModel(config, request.model), context).tokens;
  }

  // A cheaper variant for short text-only requests.
  if (alias && alias->cheaper && request.tools.empty() && !HasNonTextParts(request)) {
    const int64_t prompt = text::CountPrompt(CountingModel(config, request.model), request).tokens;
    if (prompt <= static_cast<int64_t>(alias->cheaper->max_prompt_tokens)) {
      log.notes.push_back("cheaper_variant:" + alias->cheaper->model);
      request.model = alias->cheaper->model;
      alias = config.FindAlias(request.model);
    }
  }

  // max_tokens: the default, then the cap.
  if (alias && !request.max_tokens && alias->max_tokens_default) {
    request.max_tokens = static_cast<int64_t>(*alias->max_tokens_default);
  }
  if (alias && alias->max_tokens_cap && request.max_tokens &&
      *request.max_tokens > static_cast<int64_t>(*alias->max_tokens_cap)) {
    // A virtual key may have clamped it already ("8000->2000"): the header keeps what the caller
    // asked for.
    const size_t arrow = log.max_tokens_clamp.find("->");
    const std::string asked = arrow == std::string::npos ? std::to_string(*request.max_tokens)
                                                         : log.max_tokens_clamp.substr(0, arrow);
    log.max_tokens_clamp = asked + "->" + std::to_string(*alias->max_tokens_cap);
    request.max_tokens = static_cast<int64_t>(*alias->max_tokens_cap);
  }

  // Pre-flight: does the prompt plus the answer fit the model's window?
  for (int hop = 0; hop < 3; ++hop) {
    const auto window = ContextWindowFor(config, request.model);
    if (!window) return OkStatus();
    // Most requests are far below the window: no need to tokenize them to know it.
    if (const auto bound = PromptTokenBound(request);
        bound && *bound + request.max_tokens.value_or(0) <= *window) {
      return OkStatus();
    }
    const auto count = text::CountPrompt(CountingModel(config, request.model), request);
    const int64_t need = count.tokens + request.max_tokens.value_or(0);
    if (need <= *window && count.tokens < *window) return OkStatus();
    const ModelAlias* current = config.FindAlias(request.model);
    if (current && !current->context_window_fallback.empty()) {
      log.notes.push_back("context_window_fallback:" + current->context_window_fallback);
      request.model = current->context_window_fallback;
      continue;
    }
    Error e;
    e.kind = ErrorKind::kContextLength;
    e.code = "context_length_exceeded";
    e.param = "messages";
    e.message = "This request needs " + std::to_string(need) + " tokens (" +
                std::to_string(count.tokens) + (count.exact ? "" : " estimated") +
                " in the prompt + " + std::to_string(request.max_tokens.value_or(0)) +
                " max_tokens), more than the context window of '" + request.model + "' (" +
                std::to_string(*window) +
                " tokens). Shorten the messages, lower max_tokens, or configure a "
                "context_window_fallback.";
    return e;
  }
  return OkStatus();
}

}  // namespace modelmux::routing
