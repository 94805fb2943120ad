#include "telemetry/price_table.hpp"

#include <yaml-cpp/yaml.h>

#include <atomic>
#include <cctype>
#include <exception>
#include <fstream>
#include <set>
#include <sstream>

#if defined(MODELMUX_EMBED_kPricesYaml)
// Defined in a file generated from data/prices.yaml by cmake/EmbedFile.cmake.
extern const char kPricesYaml[];
extern const size_t kPricesYamlSize;
#endif

namespace modelmux::telemetry {
namespace {

constexpr int64_t kMicro = 1'000'000;

// Parses a non-negative decimal ("0.075", "10", "2.50") into micro-units, exactly.
std::optional<int64_t> ParseMicros(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int64_t whole = 0, frac = 0;
  int frac_digits = 0;
  bool dot = false, any = false;
  for (char c : s) {
    if (c == '.' && !dot) {
      dot = true;
      continue;
    }
    if (c < '0' || c > '9') return std::nullopt;
    any = true;
    if (dot) {
      if (++frac_digits > 6) return std::nullopt;
      frac = frac * 10 + (c - '0');
    } else {
      if (whole > 1'000'000'000) return std::nullopt;
      whole = whole * 10 + (c - '0');
    }
  }
  if (!any) return std::nullopt;
  for (int i = frac_digits; i < 6; ++i) frac *= 10;
  return whole * kMicro + frac;
}

Error TableError(std::string what) {
  return Internal("prices: " + std::move(what));
}

Result<std::optional<int64_t>> OptionalPrice(const YAML::Node& n, const char* key,
                                             const std::string& where) {
  const YAML::Node v = n[key];
  if (!v) return std::optional<int64_t>();
  auto micros = ParseMicros(v.Scalar());
  if (!micros) return TableError(where + ": bad " + key + " '" + v.Scalar() + "'");
  return std::optional<int64_t>(*micros);
}

Result<TokenPrices> ParsePrices(const YAML::Node& n, const std::string& where, bool required) {
  TokenPrices p;
  std::optional<int64_t> input, output;
  MM_TRY(input, OptionalPrice(n, "input", where));
  MM_TRY(output, OptionalPrice(n, "output", where));
  if (required && (!input || !output)) return TableError(where + ": input and output are required");
  p.input = input.value_or(-1);
  p.output = output.value_or(-1);
  MM_TRY(p.cached_input, OptionalPrice(n, "cached_input", where));
  MM_TRY(p.cache_write, OptionalPrice(n, "cache_write", where));
  MM_TRY(p.reasoning, OptionalPrice(n, "reasoning", where));
  for (const char* key : {"image_input", "image_output", "per_image_output"}) {
    if (n[key]) {
      return TableError(where + ": " + key +
                        " is not supported (no provider modelmux serves reports image tokens "
                        "apart, and it serves no image generation; see docs/OBSERVABILITY.md)");
    }
  }
  return p;
}

Result<ModelPrice> ParseEntry(const YAML::Node& n, size_t i) {
  std::string where = "entry " + std::to_string(i);
  if (!n.IsMap()) return TableError(where + ": not a map");
  ModelPrice mp;
  if (!n["provider"] || !n["model"]) return TableError(where + ": provider and model are required");
  mp.provider = n["provider"].as<std::string>();
  mp.model = n["model"].as<std::string>();
  where += " (" + mp.provider + "/" + mp.model + ")";
  const std::string currency = n["currency"] ? n["currency"].as<std::string>() : "USD";
  if (currency == "USD") {
    mp.currency = Currency::kUsd;
  } else if (currency == "CNY") {
    mp.currency = Currency::kCny;
  } else {
    return TableError(where + ": unknown currency '" + currency + "'");
  }
  if (n["same_as"]) {
    mp.same_as = n["same_as"].as<std::string>();
    const size_t slash = mp.same_as.find('/');
    if (slash == std::string::npos || slash == 0 || slash + 1 == mp.same_as.size()) {
      return TableError(where + ": same_as must be \"provider/model\"");
    }
  }
  MM_TRY(mp.prices, ParsePrices(n, where, mp.same_as.empty()));
  if (const YAML::Node tiers = n["tiers"]) {
    for (const auto& t : tiers) {
      PriceTier tier;
      if (!t["above_prompt_tokens"])
        return TableError(where + ": tier without above_prompt_tokens");
      tier.above_prompt_tokens = t["above_prompt_tokens"].as<int64_t>();
      MM_TRY(tier.prices, ParsePrices(t, where, false));
      if (tier.prices.input < 0) tier.prices.input = mp.prices.input;
      if (tier.prices.output < 0) tier.prices.output = mp.prices.output;
      if (!mp.tiers.empty() && tier.above_prompt_tokens <= mp.tiers.back().above_prompt_tokens) {
        return TableError(where + ": tiers must ascend");
      }
      mp.tiers.push_back(std::move(tier));
    }
  }
  std::optional<int64_t> fee;
  MM_TRY(fee, OptionalPrice(n, "per_request", where));
  mp.per_request = fee.value_or(0);
  MM_TRY(fee, OptionalPrice(n, "per_image_input", where));
  mp.per_image_input = fee.value_or(0);
  if (n["source"]) mp.source = n["source"].as<std::string>();
  if (n["effective"]) mp.effective = n["effective"].as<std::string>();
  return mp;
}

// Rounds a sum of token x (micro-units per 1M tokens) products to whole micro-units, half up.
int64_t RoundToMicros(int64_t scaled) {
  return (scaled + kMicro / 2) / kMicro;
}

}  // namespace

bool GlobMatch(std::string_view p, std::string_view t) {
  size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == t[ti])) {
      ++pi;
      ++ti;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

Result<PriceTable> PriceTable::Parse(std::string_view yaml) {
  PriceTable table;
  try {
    const YAML::Node root = YAML::Load(std::string(yaml));
    const YAML::Node prices = root["prices"];
    if (!prices || !prices.IsSequence()) return TableError("missing 'prices' list");
    size_t i = 0;
    for (const auto& n : prices) {
      ModelPrice mp;
      MM_TRY(mp, ParseEntry(n, i++));
      table.entries_.push_back(std::move(mp));
    }
  } catch (const std::exception& e) {  // yaml-cpp reports errors by exception
    return TableError(e.what());
  }
  return table;
}

const PriceTable& PriceTable::BuiltIn() {
  static const PriceTable table = [] {
#if defined(MODELMUX_EMBED_kPricesYaml)
    auto parsed = Parse(std::string_view(kPricesYaml, kPricesYamlSize));
    if (parsed.ok()) return std::move(parsed).value();
#endif
    return PriceTable();
  }();
  return table;
}

Result<PriceTable> PriceTable::Load(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return TableError("cannot read '" + path + "'");
  std::stringstream ss;
  ss << f.rdbuf();
  auto parsed = Parse(ss.str());
  if (!parsed.ok()) return TableError(path + ": " + parsed.error().message);
  return parsed;
}

PriceTable PriceTable::Merged(const PriceTable& base, const PriceTable& over) {
  PriceTable out;
  std::set<std::pair<std::string, std::string>> named;
  for (const auto& e : over.entries_) {
    named.emplace(e.provider, e.model);
    out.entries_.push_back(e);
  }
  for (const auto& e : base.entries_) {
    if (!named.contains({e.provider, e.model})) out.entries_.push_back(e);
  }
  return out;
}

namespace {
std::atomic<std::shared_ptr<const PriceTable>>& ActiveSlot() {
  static std::atomic<std::shared_ptr<const PriceTable>> slot;
  return slot;
}
}  // namespace

std::shared_ptr<const PriceTable> PriceTable::Active() {
  auto t = ActiveSlot().load(std::memory_order_acquire);
  if (t) return t;
  // Not installed: the built-in table, which lives for the whole process.
  static const std::shared_ptr<const PriceTable> built_in(&BuiltIn(), [](const PriceTable*) {});
  return built_in;
}

void PriceTable::SetActive(std::shared_ptr<const PriceTable> table) {
  ActiveSlot().store(std::move(table), std::memory_order_release);
}

std::string BedrockAnthropicModel(std::string_view id) {
  constexpr std::string_view kVendor = "anthropic.";
  size_t at = id.find(kVendor);
  // Only "anthropic." at the start or after one region label ("us.", "eu.", "apac.", "global.").
  if (at == std::string_view::npos) return "";
  if (at != 0 && id.substr(0, at - 1).find('.') != std::string_view::npos) return "";
  if (at != 0 && id[at - 1] != '.') return "";
  std::string_view m = id.substr(at + kVendor.size());
  // "-v1:0", "-v2", "-v1:0:200k": the Bedrock version suffix.
  if (const size_t v = m.rfind("-v"); v != std::string_view::npos && v + 2 < m.size() &&
                                      std::isdigit(static_cast<unsigned char>(m[v + 2]))) {
    m = m.substr(0, v);
  }
  return std::string(m);
}

std::string_view WithoutDateSuffix(std::string_view m) {
  constexpr size_t kLen = 11;  // "-YYYY-MM-DD"
  if (m.size() <= kLen) return m;
  const std::string_view tail = m.substr(m.size() - kLen);
  for (size_t i = 0; i < kLen; ++i) {
    const bool dash = i == 0 || i == 5 || i == 8;
    if (dash ? tail[i] != '-' : !std::isdigit(static_cast<unsigned char>(tail[i]))) return m;
  }
  return m.substr(0, m.size() - kLen);
}

const ModelPrice* PriceTable::Find(std::string_view provider_name, std::string_view provider_type,
                                   std::string_view model) const {
  if (!provider_name.empty() && provider_name != provider_type) {
    if (const ModelPrice* p = Find(provider_name, model)) return p;
  }
  return Find(provider_type, model);
}

const ModelPrice* PriceTable::Find(std::string_view provider, std::string_view model) const {
  if (const ModelPrice* p = Follow(FindDirect(provider, model))) return p;
  // The resellers' rules (price_table.hpp), for the provider types "bedrock" and "azure".
  if (provider == "bedrock") {
    if (const std::string claude = BedrockAnthropicModel(model); !claude.empty()) {
      return Follow(FindDirect("anthropic", claude));
    }
  } else if (provider == "azure") {
    if (const ModelPrice* p = Follow(FindDirect("openai", model))) return p;
    if (const std::string_view bare = WithoutDateSuffix(model); bare != model) {
      return Follow(FindDirect("openai", bare));
    }
  }
  return nullptr;
}

const ModelPrice* PriceTable::FindDirect(std::string_view provider, std::string_view model) const {
  for (const auto& e : entries_) {
    if (e.provider == provider && e.model == model) return &e;
  }
  for (const auto& e : entries_) {
    if (e.provider == provider && GlobMatch(e.model, model)) return &e;
  }
  return nullptr;
}

const ModelPrice* PriceTable::Follow(const ModelPrice* p) const {
  for (int hops = 0; p != nullptr && !p->same_as.empty(); ++hops) {
    if (hops == 4) return nullptr;  // a loop, or too long a chain: unknown rather than wrong
    const size_t slash = p->same_as.find('/');
    p = FindDirect(std::string_view(p->same_as).substr(0, slash),
                   std::string_view(p->same_as).substr(slash + 1));
  }
  return p;
}

std::optional<Money> Cost(const ModelPrice& price, const Usage& u, const CostExtras& x) {
  if (u.prompt_tokens < 0 || u.completion_tokens < 0 || u.cache_read_tokens < 0 ||
      u.cache_write_tokens < 0 || u.reasoning_tokens < 0) {
    return std::nullopt;
  }
  TokenPrices p = price.prices;
  for (const auto& tier : price.tiers) {
    if (u.prompt_tokens <= tier.above_prompt_tokens) break;
    const TokenPrices& t = tier.prices;
    p.input = t.input;
    p.output = t.output;
    if (t.cached_input) p.cached_input = t.cached_input;
    if (t.cache_write) p.cache_write = t.cache_write;
    if (t.reasoning) p.reasoning = t.reasoning;
  }
  if (x.images_in < 0) return std::nullopt;
  const int64_t fresh =
      std::max<int64_t>(0, u.prompt_tokens - u.cache_read_tokens - u.cache_write_tokens);
  const int64_t reasoning = std::min(u.reasoning_tokens, u.completion_tokens);
  const int64_t scaled = fresh * p.input + u.cache_read_tokens * p.cached_input.value_or(p.input) +
                         u.cache_write_tokens * p.cache_write.value_or(p.input) +
                         (u.completion_tokens - reasoning) * p.output +
                         reasoning * p.reasoning.value_or(p.output) +
                         (price.per_request + x.images_in * price.per_image_input) * kMicro;
  return Money{RoundToMicros(scaled), price.currency};
}

const char* CurrencyCode(Currency c) {
  return c == Currency::kCny ? "CNY" : "USD";
}

std::string FormatMoney(Money m) {
  std::string out = m.currency == Currency::kCny ? "¥" : "$";
  int64_t v = m.micros;
  if (v < 0) {
    out.insert(0, "-");
    v = -v;
  }
  out += std::to_string(v / kMicro);
  int64_t frac = v % kMicro;
  if (frac != 0) {
    std::string digits = std::to_string(frac);
    digits.insert(0, 6 - digits.size(), '0');
    while (digits.back() == '0') digits.pop_back();
    out += "." + digits;
  }
  return out;
}

}  // namespace modelmux::telemetry
