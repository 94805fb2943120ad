#pragma once
// Model prices and the cost of a call, in exact integer arithmetic.
//
// Units: a price is stored in micro-units of its currency per 1M tokens (USD 0.075 per 1M tokens =
// 75'000). The cost of N tokens is N * price / 1'000'000 micro-units; every component is summed
// exactly first and the total is rounded half-up once to whole micro-units (Money::micros).
// int64 is ample: 1e9 tokens x 1e9 micro-units/1M (= 1000 per 1M tokens) stays below 9.2e18.
//
// The built-in table is data/prices.yaml compiled into the binary. Parse() and BuiltIn() are for
// start-up: Parse() returns errors as values; the table is immutable afterwards and safe to share
// across threads.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/usage.hpp"

namespace modelmux::telemetry {

enum class Currency { kUsd, kCny };

struct Money {
  int64_t micros = 0;  // millionths of one unit of `currency`
  Currency currency = Currency::kUsd;
  friend bool operator==(const Money&, const Money&) = default;
};

// Prices in micro-units per 1M tokens. Optional fields default as documented in prices.yaml:
// cached_input and cache_write to input, reasoning to output.
struct TokenPrices {
  int64_t input = 0;
  std::optional<int64_t> cached_input;
  std::optional<int64_t> cache_write;
  int64_t output = 0;
  std::optional<int64_t> reasoning;
  // No image-token prices: no chat answer modelmux serves reports image tokens apart from text
  // (images are in prompt_tokens, billed at input), and modelmux serves no image-generation
  // endpoint. The parser refuses image_input, image_output and per_image_output for that reason.
};

struct PriceTier {
  int64_t above_prompt_tokens = 0;  // applies when prompt_tokens > this
  TokenPrices prices;               // unset optional fields fall back to the base entry's
};

struct ModelPrice {
  std::string provider;
  std::string model;  // exact name or a glob with '*' and '?'
  Currency currency = Currency::kUsd;
  TokenPrices prices;
  std::vector<PriceTier> tiers;  // ascending above_prompt_tokens
  // Flat fees in micro-units of `currency`: per call, and per image in the request (counted by the
  // gateway's media stage, CostExtras::images_in).
  int64_t per_request = 0;
  int64_t per_image_input = 0;
  std::string source;
  std::string effective;  // YYYY-MM-DD
  // "provider/model": this entry is priced as that one (looked up again, at most 4 hops); its
  // own prices are then unused. E.g. an Azure deployment named "prod-4o" as openai/gpt-4o.
  std::string same_as;
};

class PriceTable {
 public:
  // Parses the YAML shape of data/prices.yaml. Errors (kInternal, message naming the entry) on
  // malformed YAML, missing fields, unknown currencies or prices with more than 6 decimals.
  [[nodiscard]] static Result<PriceTable> Parse(std::string_view yaml);
  // The table compiled into the binary (parsed once, thread-safe). Empty when the build did not
  // embed data/prices.yaml (then every price is unknown).
  [[nodiscard]] static const PriceTable& BuiltIn();
  // Reads and parses a prices file (same shape as data/prices.yaml).
  [[nodiscard]] static Result<PriceTable> Load(const std::string& path);
  // `over`'s entries first (they win), then `base`'s entries whose provider+model `over` does not
  // name. Used for `telemetry.prices_file`.
  [[nodiscard]] static PriceTable Merged(const PriceTable& base, const PriceTable& over);

  // The table the gateway prices with: BuiltIn() until SetActive() installs another (start-up or
  // configuration reload). Lock-free to read.
  [[nodiscard]] static std::shared_ptr<const PriceTable> Active();
  static void SetActive(std::shared_ptr<const PriceTable> table);

  // The entry for provider/model: an exact model match first, else the first glob that matches
  // in file order; an entry with `same_as` is followed. Then the resellers' rules: for provider
  // "bedrock", a model "[region.]anthropic.<model>[-vN[:M]]" is priced as anthropic/<model>
  // (Claude on Bedrock costs what Anthropic charges); for "azure", a deployment model as
  // openai/<model>, also tried without a "-YYYY-MM-DD" date suffix. nullptr when unknown. The
  // pointer lives as long as the table.
  [[nodiscard]] const ModelPrice* Find(std::string_view provider, std::string_view model) const;
  // By the configured provider name first ("dashscope-cn"), then by its type ("dashscope"): a
  // deployment in another region or currency gets its own entries under its own name.
  [[nodiscard]] const ModelPrice* Find(std::string_view provider_name,
                                       std::string_view provider_type,
                                       std::string_view model) const;
  [[nodiscard]] const std::vector<ModelPrice>& entries() const { return entries_; }

 private:
  [[nodiscard]] const ModelPrice* FindDirect(std::string_view provider,
                                             std::string_view model) const;
  [[nodiscard]] const ModelPrice* Follow(const ModelPrice* p) const;

  std::vector<ModelPrice> entries_;
};

// What a call used beyond Usage's token counts (media the provider bills apart).
struct CostExtras {
  int64_t images_in = 0;  // images sent, billed at per_image_input each
};

// Cost of one call: (prompt - cache reads - cache writes) at input, cache reads at cached_input,
// cache writes at cache_write, (completion - reasoning) at output, reasoning at reasoning, plus
// per_request and per_image_input x images_in; the tier is chosen by prompt_tokens.
// nullopt only when usage is inconsistent (negative counts).
[[nodiscard]] std::optional<Money> Cost(const ModelPrice& price, const Usage& usage,
                                        const CostExtras& extras = {});

// "USD" / "CNY".
[[nodiscard]] const char* CurrencyCode(Currency c);

// "$0.000435", "¥0.01", "$0": the currency symbol and the amount with trailing zeros trimmed.
[[nodiscard]] std::string FormatMoney(Money m);

// The Anthropic model name inside a Bedrock model id
// ("us.anthropic.claude-sonnet-4-5-20250929-v1:0"
// -> "claude-sonnet-4-5-20250929"), or "" when the id is not an Anthropic model.
[[nodiscard]] std::string BedrockAnthropicModel(std::string_view bedrock_id);

// `model` without a trailing "-YYYY-MM-DD" ("gpt-4o-2024-08-06" -> "gpt-4o"); unchanged otherwise.
[[nodiscard]] std::string_view WithoutDateSuffix(std::string_view model);

// Matches `text` against a glob with '*' (any run) and '?' (one byte).
[[nodiscard]] bool GlobMatch(std::string_view pattern, std::string_view text);

}  // namespace modelmux::telemetry
