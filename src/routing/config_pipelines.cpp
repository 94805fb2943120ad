#include "routing/config_pipelines.hpp"

#include <algorithm>
#include <set>
#include <string_view>
#include <utility>

namespace modelmux::routing {

const Pipeline* Config::FindPipeline(std::string_view name) const {
  for (const auto& p : pipelines) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

namespace config_detail {
namespace {

constexpr size_t kMinFanOut = 2;
constexpr size_t kMaxFanOut = 8;

std::string_view KindName(PipelineKind kind) {
  switch (kind) {
    case PipelineKind::kVisionThenReason:
      return "vision_then_reason";
    case PipelineKind::kFanOut:
      return "fan_out";
    case PipelineKind::kConditional:
      return "conditional";
    case PipelineKind::kMapReduce:
      return "map_reduce";
  }
  return "?";
}

// Fails on a key present in `r` that `kind` does not take.
void RefuseKeys(MapReader& r, PipelineKind kind, std::initializer_list<std::string_view> keys) {
  for (std::string_view k : keys) {
    if (r.Has(k) && r.ctx().ok()) {
      r.ctx().Fail(
          r.Get(k), r.Path(k),
          "'" + r.Path(k) + "' is not a key of a " + std::string(KindName(kind)) + " pipeline");
    }
  }
}

void Require(MapReader& r, std::string_view key, const std::string& value) {
  if (value.empty() && r.ctx().ok()) {
    r.ctx().Fail(r.Get(key), r.Path(key), "missing '" + r.Path(key) + "'");
  }
}

// `key_tag: t` (one tag) or `key_tags_any: [t, u]` (any of them), not both; no empty tag.
void ParseKeyTags(MapReader& w, PipelineCondition& c) {
  ParseContext& ctx = w.ctx();
  const bool one = w.Has("key_tag") && !w.Get("key_tag").IsNull();
  const bool any = w.Has("key_tags_any") && !w.Get("key_tags_any").IsNull();
  if (one && any) {
    ctx.Fail(w.Get("key_tags_any"), w.Path("key_tags_any"),
             "'" + w.Path("key_tag") + "' and '" + w.Path("key_tags_any") +
                 "' cannot both be set (list every tag in key_tags_any)");
    return;
  }
  const std::string_view key = one ? "key_tag" : "key_tags_any";
  if (one) {
    std::string tag;
    w.String("key_tag", tag);
    c.key_tags_any.push_back(std::move(tag));
  } else if (any) {
    w.StringList("key_tags_any", c.key_tags_any);
    if (ctx.ok() && c.key_tags_any.empty()) {
      ctx.Fail(w.Get(key), w.Path(key), "'" + w.Path(key) + "' must list at least one tag");
      return;
    }
  }
  for (const auto& tag : c.key_tags_any) {
    if (ctx.ok() && tag.empty()) {
      ctx.Fail(w.Get(key), w.Path(key), "'" + w.Path(key) + "' has an empty tag");
    }
  }
}

void ParseCondition(ParseContext& ctx, const YAML::Node& node, const std::string& path,
                    PipelineCondition& c) {
  MapReader w(
      ctx, node, path,
      {"modality", "min_prompt_tokens", "max_prompt_tokens", "tier", "key_tag", "key_tags_any"});
  w.Enum("modality", {{"image", Modality::kImage}, {"text", Modality::kText}}, c.modality);
  w.OptionalUnsigned("min_prompt_tokens", c.min_prompt_tokens);
  w.OptionalUnsigned("max_prompt_tokens", c.max_prompt_tokens);
  w.String("tier", c.tier);
  ParseKeyTags(w, c);
  if (!ctx.ok()) return;
  if (c.min_prompt_tokens && c.max_prompt_tokens && *c.min_prompt_tokens > *c.max_prompt_tokens) {
    ctx.Fail(
        w.Get("max_prompt_tokens"), w.Path("max_prompt_tokens"),
        "'" + w.Path("max_prompt_tokens") + "' is below '" + w.Path("min_prompt_tokens") + "'");
  }
}

void ParseRoutes(MapReader& r, std::vector<PipelineRoute>& out) {
  ParseContext& ctx = r.ctx();
  YAML::Node list = r.Get("routes");
  if (!list.IsSequence() || list.size() == 0) {
    ctx.Fail(list, r.Path("routes"), "'" + r.Path("routes") + "' must be a non-empty list");
    return;
  }
  for (size_t j = 0; j < list.size() && ctx.ok(); ++j) {
    const std::string path = r.Path("routes") + "[" + std::to_string(j) + "]";
    MapReader route(ctx, list[j], path, {"when", "model"});
    PipelineRoute out_route;
    route.String("model", out_route.model);
    Require(route, "model", out_route.model);
    if (!ctx.ok()) return;
    if (route.Has("when") && !route.Get("when").IsNull()) {
      out_route.when.emplace();
      ParseCondition(ctx, route.Get("when"), route.Path("when"), *out_route.when);
    } else if (j + 1 != list.size()) {
      ctx.Fail(list[j], route.Path("when"),
               "missing '" + route.Path("when") + "' (only the last route may have none)");
    }
    out.push_back(std::move(out_route));
  }
}

}  // namespace

void ParsePipelines(ParseContext& ctx, const YAML::Node& node, std::vector<Pipeline>& out) {
  if (!node.IsDefined() || node.IsNull()) return;
  if (!node.IsSequence()) {
    ctx.Fail(node, "pipelines", "'pipelines' must be a list of pipelines");
    return;
  }
  for (size_t i = 0; i < node.size() && ctx.ok(); ++i) {
    const std::string path = "pipelines[" + std::to_string(i) + "]";
    MapReader r(
        ctx, node[i], path,
        {"name", "kind", "vision", "reasoner", "describe_prompt", "models", "judge", "routes",
         "map", "reduce", "chunk_tokens", "concurrency", "map_prompt", "reduce_prompt"});
    Pipeline p;
    r.String("name", p.name);
    Require(r, "name", p.name);
    if (!ctx.ok()) return;
    if (!r.Has("kind")) {
      ctx.Fail(node[i], r.Path("kind"), "missing '" + r.Path("kind") + "'");
      return;
    }
    r.Enum("kind",
           {{"vision_then_reason", PipelineKind::kVisionThenReason},
            {"fan_out", PipelineKind::kFanOut},
            {"conditional", PipelineKind::kConditional},
            {"map_reduce", PipelineKind::kMapReduce}},
           p.kind);
    if (!ctx.ok()) return;
    if (p.kind != PipelineKind::kMapReduce) {
      RefuseKeys(r, p.kind,
                 {"map", "reduce", "chunk_tokens", "concurrency", "map_prompt", "reduce_prompt"});
    }
    switch (p.kind) {
      case PipelineKind::kVisionThenReason:
        RefuseKeys(r, p.kind, {"models", "judge", "routes"});
        r.String("vision", p.vision);
        r.String("reasoner", p.reasoner);
        r.String("describe_prompt", p.describe_prompt);
        Require(r, "vision", p.vision);
        Require(r, "reasoner", p.reasoner);
        break;
      case PipelineKind::kFanOut:
        RefuseKeys(r, p.kind, {"vision", "reasoner", "describe_prompt", "routes"});
        r.StringList("models", p.models);
        r.String("judge", p.judge);
        if (ctx.ok() && (p.models.size() < kMinFanOut || p.models.size() > kMaxFanOut)) {
          ctx.Fail(r.Get("models"), r.Path("models"),
                   "'" + r.Path("models") + "' must list 2 to 8 models");
        }
        break;
      case PipelineKind::kConditional:
        RefuseKeys(r, p.kind, {"vision", "reasoner", "describe_prompt", "models", "judge"});
        if (ctx.ok()) ParseRoutes(r, p.routes);
        break;
      case PipelineKind::kMapReduce:
        RefuseKeys(r, p.kind,
                   {"vision", "reasoner", "describe_prompt", "models", "judge", "routes"});
        r.String("map", p.map);
        r.String("reduce", p.reduce);
        r.Unsigned("chunk_tokens", p.chunk_tokens);
        r.Unsigned("concurrency", 64, p.concurrency);
        r.String("map_prompt", p.map_prompt);
        r.String("reduce_prompt", p.reduce_prompt);
        Require(r, "map", p.map);
        Require(r, "reduce", p.reduce);
        if (ctx.ok() && p.concurrency == 0) {
          ctx.Fail(r.Get("concurrency"), r.Path("concurrency"),
                   "'" + r.Path("concurrency") + "' must be at least 1");
        }
        break;
    }
    out.push_back(std::move(p));
  }
}

Status ValidatePipelines(const Config& config) {
  std::set<std::string, std::less<>> seen;
  auto fail = [](std::string path, std::string what) {
    return ConfigError(std::move(path), std::move(what), {}, 0);
  };
  for (size_t i = 0; i < config.pipelines.size(); ++i) {
    const Pipeline& p = config.pipelines[i];
    const std::string path = "pipelines[" + std::to_string(i) + "]";
    if (!seen.insert(p.name).second) {
      return fail(path + ".name", "duplicate pipeline '" + p.name + "'");
    }
    if (config.FindAlias(p.name) != nullptr) {
      return fail(path + ".name", "pipeline '" + p.name + "' has the name of an alias");
    }
    std::vector<std::pair<std::string, std::string>> named;  // (path, model)
    if (!p.vision.empty()) named.emplace_back(path + ".vision", p.vision);
    if (!p.reasoner.empty()) named.emplace_back(path + ".reasoner", p.reasoner);
    for (size_t j = 0; j < p.models.size(); ++j) {
      named.emplace_back(path + ".models[" + std::to_string(j) + "]", p.models[j]);
    }
    if (!p.judge.empty()) named.emplace_back(path + ".judge", p.judge);
    if (!p.map.empty()) named.emplace_back(path + ".map", p.map);
    if (!p.reduce.empty()) named.emplace_back(path + ".reduce", p.reduce);
    for (size_t j = 0; j < p.routes.size(); ++j) {
      named.emplace_back(path + ".routes[" + std::to_string(j) + "].model", p.routes[j].model);
    }
    for (const auto& [at, model] : named) {
      bool known = config.FindAlias(model) != nullptr;
      if (auto slash = model.find('/'); !known && slash != std::string::npos) {
        known = config.FindProvider(std::string_view(model).substr(0, slash)) != nullptr;
      }
      if (!known || config.FindPipeline(model) != nullptr) {
        return fail(at, "pipeline '" + p.name + "' names '" + model +
                            "', which is neither an alias nor provider/model with a configured "
                            "provider");
      }
    }
  }
  return OkStatus();
}

}  // namespace config_detail
}  // namespace modelmux::routing
