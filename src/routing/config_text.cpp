#include "routing/config_text.hpp"

#include <string>

namespace modelmux::routing::config_detail {

void ParseTextControls(MapReader& r, ModelAlias& alias) {
  ParseContext& ctx = r.ctx();
  r.OptionalUnsigned("context_window", alias.context_window);
  if (ctx.ok() && alias.context_window && *alias.context_window == 0) {
    ctx.Fail(r.Get("context_window"), r.Path("context_window"),
             "'" + r.Path("context_window") + "' must be at least 1");
    return;
  }
  if (r.Has("max_tokens") && !r.Get("max_tokens").IsNull()) {
    MapReader m(ctx, r.Get("max_tokens"), r.Path("max_tokens"), {"default", "cap"});
    m.OptionalUnsigned("default", alias.max_tokens_default);
    m.OptionalUnsigned("cap", alias.max_tokens_cap);
    if (!ctx.ok()) return;
    if (alias.max_tokens_cap && *alias.max_tokens_cap == 0) {
      ctx.Fail(m.Get("cap"), m.Path("cap"), "'" + m.Path("cap") + "' must be at least 1");
      return;
    }
    if (alias.max_tokens_default && alias.max_tokens_cap &&
        *alias.max_tokens_default > *alias.max_tokens_cap) {
      ctx.Fail(m.Get("default"), m.Path("default"),
               "'" + m.Path("default") + "' is above '" + m.Path("cap") + "'");
      return;
    }
  }
  if (r.Has("cheaper") && !r.Get("cheaper").IsNull()) {
    MapReader c(ctx, r.Get("cheaper"), r.Path("cheaper"), {"model", "max_prompt_tokens"});
    ModelAlias::Cheaper cheaper;
    c.String("model", cheaper.model);
    c.Unsigned("max_prompt_tokens", cheaper.max_prompt_tokens);
    if (!ctx.ok()) return;
    if (cheaper.model.empty()) {
      ctx.Fail(r.Get("cheaper"), c.Path("model"), "missing '" + c.Path("model") + "'");
      return;
    }
    if (cheaper.max_prompt_tokens == 0) {
      ctx.Fail(r.Get("cheaper"), c.Path("max_prompt_tokens"),
               "'" + c.Path("max_prompt_tokens") + "' must be at least 1");
      return;
    }
    alias.cheaper = std::move(cheaper);
  }
  r.String("context", alias.context);
}

}  // namespace modelmux::routing::config_detail
