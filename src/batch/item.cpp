#include "batch/item.hpp"

#include <sys/stat.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cerrno>
#include <cstring>
#include <fstream>

#include "dialects/openai/embeddings.hpp"
#include "dialects/openai/request.hpp"
#include "media/image.hpp"
#include "media/local_file.hpp"
#include "text/count.hpp"
#include "text/token_estimator.hpp"

namespace modelmux::batch {
namespace json = boost::json;
namespace {

std::string At(uint64_t line) {
  return "line " + std::to_string(line) + ": ";
}

Error LineError(uint64_t line, std::string what, std::string code, std::string param = {}) {
  return InvalidRequest(At(line) + what, std::move(param), std::move(code));
}

bool IsUrl(std::string_view s) {
  return s.starts_with("http://") || s.starts_with("https://") || s.starts_with("data:");
}

// Fills the flag defaults into an OpenAI body that lacks them.
void FillBody(json::object& body, const Defaults& d, Endpoint endpoint) {
  if (!body.contains("model") && !d.model.empty()) body["model"] = d.model;
  if (endpoint != Endpoint::kChat) return;
  if (d.max_tokens && !body.contains("max_tokens") && !body.contains("max_completion_tokens")) {
    body["max_tokens"] = *d.max_tokens;
  }
  if (d.temperature && !body.contains("temperature")) body["temperature"] = *d.temperature;
  if (!d.system.empty()) {
    auto* msgs = body.if_contains("messages");
    if (msgs != nullptr && msgs->is_array()) {
      auto& arr = msgs->as_array();
      bool has_system = false;
      for (const auto& m : arr) {
        const auto* role = m.is_object() ? m.as_object().if_contains("role") : nullptr;
        if (role != nullptr && role->is_string() &&
            (role->as_string() == "system" || role->as_string() == "developer")) {
          has_system = true;
        }
      }
      if (!has_system)
        arr.insert(arr.begin(), json::object{{"role", "system"}, {"content", d.system}});
    }
  }
}

Result<WorkItem> ParseBatchApi(json::object& o, uint64_t line, const Defaults& d) {
  WorkItem item;
  item.line = line;
  item.format = LineFormat::kBatchApi;
  const auto* id = o.if_contains("custom_id");
  if (id == nullptr || !id->is_string() || id->as_string().empty()) {
    return LineError(line, "custom_id must be a non-empty string", "malformed_line", "custom_id");
  }
  item.key = std::string(id->as_string());
  item.id_json = json::serialize(*id);
  if (const auto* m = o.if_contains("method");
      m != nullptr && (!m->is_string() || m->as_string() != "POST")) {
    return LineError(line, "method must be POST", "malformed_line", "method");
  }
  const auto* url = o.if_contains("url");
  if (url == nullptr || !url->is_string()) {
    return LineError(line, "url must be a string", "malformed_line", "url");
  }
  const std::string_view u = url->as_string();
  if (u == "/v1/chat/completions") {
    item.endpoint = Endpoint::kChat;
  } else if (u == "/v1/embeddings") {
    item.endpoint = Endpoint::kEmbeddings;
  } else {
    return LineError(line, "url must be /v1/chat/completions or /v1/embeddings", "unsupported_url",
                     "url");
  }
  auto* body = o.if_contains("body");
  if (body == nullptr || !body->is_object()) {
    return LineError(line, "body must be an object", "malformed_line", "body");
  }
  FillBody(body->as_object(), d, item.endpoint);
  if (!body->as_object().contains("model")) {
    return LineError(line, "no model (in the body or --model)", "missing_model", "body.model");
  }
  const std::string text = json::serialize(*body);
  if (item.endpoint == Endpoint::kChat) {
    auto req = dialects::openai::DecodeChatRequest(text);
    if (!req.ok()) {
      return LineError(line, req.error().message, req.error().code, "body." + req.error().param);
    }
    item.chat = std::move(req).value();
    item.chat.stream = false;
    item.chat.include_usage = true;
  } else {
    auto req = dialects::openai::DecodeEmbeddingRequest(text);
    if (!req.ok()) {
      return LineError(line, req.error().message, req.error().code, "body." + req.error().param);
    }
    item.embed = std::move(req).value();
  }
  return item;
}

Result<WorkItem> ParseSimple(const json::object& o, uint64_t line, const Defaults& d) {
  WorkItem item;
  item.line = line;
  item.format = LineFormat::kSimple;
  const auto* id = o.if_contains("id");
  if (id == nullptr || !(id->is_string() || id->is_int64() || id->is_uint64()) ||
      (id->is_string() && id->as_string().empty())) {
    return LineError(line, "id must be a non-empty string or an integer", "malformed_line", "id");
  }
  item.id_json = json::serialize(*id);
  item.key = id->is_string() ? std::string(id->as_string()) : item.id_json;
  const auto* prompt = o.if_contains("prompt");
  if (prompt == nullptr || !prompt->is_string()) {
    return LineError(line, "prompt must be a string", "malformed_line", "prompt");
  }
  static constexpr std::string_view kKnown[] = {"id",     "prompt",     "image",      "model",
                                                "system", "max_tokens", "temperature"};
  for (const auto& kv : o) {
    bool known = false;
    for (auto k : kKnown) known |= kv.key() == k;
    if (!known) {
      return LineError(line, "unknown field \"" + std::string(kv.key()) + "\"", "malformed_line",
                       std::string(kv.key()));
    }
  }
  auto& req = item.chat;
  req.model = d.model;
  if (const auto* m = o.if_contains("model")) {
    if (!m->is_string())
      return LineError(line, "model must be a string", "malformed_line", "model");
    req.model = std::string(m->as_string());
  }
  if (req.model.empty())
    return LineError(line, "no model (in the line or --model)", "missing_model", "model");
  std::string system = d.system;
  if (const auto* s = o.if_contains("system")) {
    if (!s->is_string())
      return LineError(line, "system must be a string", "malformed_line", "system");
    system = std::string(s->as_string());
  }
  req.max_tokens = d.max_tokens;
  if (const auto* m = o.if_contains("max_tokens")) {
    if (!m->is_int64() || m->as_int64() < 1) {
      return LineError(line, "max_tokens must be a positive integer", "malformed_line",
                       "max_tokens");
    }
    req.max_tokens = m->as_int64();
  }
  req.temperature = d.temperature;
  if (const auto* t = o.if_contains("temperature")) {
    if (!t->is_number() || t->to_number<double>() < 0 || t->to_number<double>() > 2) {
      return LineError(line, "temperature must be a number in [0, 2]", "malformed_line",
                       "temperature");
    }
    req.temperature = t->to_number<double>();
  }
  if (!system.empty()) {
    Message sys;
    sys.role = Role::kSystem;
    sys.content.push_back({PartType::kText, system});
    req.messages.push_back(std::move(sys));
  }
  Message user;
  user.role = Role::kUser;
  user.content.push_back({PartType::kText, std::string(prompt->as_string())});
  std::vector<std::string> images;
  if (const auto* img = o.if_contains("image")) {
    if (img->is_string()) {
      images.emplace_back(img->as_string());
    } else if (img->is_array()) {
      for (const auto& v : img->as_array()) {
        if (!v.is_string()) break;
        images.emplace_back(v.as_string());
      }
      if (images.size() != img->as_array().size()) {
        return LineError(line, "image must be a string or an array of strings", "malformed_line",
                         "image");
      }
    } else {
      return LineError(line, "image must be a string or an array of strings", "malformed_line",
                       "image");
    }
  }
  for (auto& i : images) {
    if (i.empty()) return LineError(line, "image is empty", "malformed_line", "image");
    if (IsUrl(i)) {
      ContentPart part;
      part.type = PartType::kImage;
      part.url = std::move(i);
      user.content.push_back(std::move(part));
      user.content_is_string = false;
    } else {
      item.image_files.push_back(std::move(i));
    }
  }
  req.messages.push_back(std::move(user));
  req.include_usage = true;
  return item;
}

}  // namespace

Result<WorkItem> ParseLine(std::string_view text, uint64_t line, const Defaults& defaults) {
  std::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return LineError(line, "not valid JSON (" + ec.message() + ")", "malformed_line");
  if (!v.is_object()) return LineError(line, "not a JSON object", "malformed_line");
  auto& o = v.as_object();
  if (o.contains("custom_id") || o.contains("body")) return ParseBatchApi(o, line, defaults);
  return ParseSimple(o, line, defaults);
}

Status CheckImages(const WorkItem& item, const ImageCheck& check) {
  for (size_t i = 0; i < item.image_files.size(); ++i) {
    const std::string& path = item.image_files[i];
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      return LineError(item.line, "image " + path + ": " + std::strerror(errno), "image_not_found",
                       "image");
    }
    if (!S_ISREG(st.st_mode)) {
      return LineError(item.line, "image " + path + ": not a regular file", "image_not_found",
                       "image");
    }
    const auto size = static_cast<uint64_t>(st.st_size);
    if (size > check.max_bytes) {
      return LineError(item.line,
                       "image " + path + ": " + std::to_string(size) +
                           " bytes, over the limit of " + std::to_string(check.max_bytes),
                       "image_too_large", "image");
    }
    // The header is in the first bytes for every format we take; read the rest only if needed.
    constexpr uint64_t kPrefix = 1ull << 20;
    std::ifstream in(path, std::ios::binary);
    std::string bytes(std::min(size, kPrefix), '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!in) {
      return LineError(item.line, "image " + path + ": cannot be read", "image_not_found", "image");
    }
    auto info = media::ProbeImage(bytes, "image");
    if (!info.ok() && size > kPrefix && info.error().code == "image_unreadable") {
      bytes.resize(size);
      in.read(bytes.data() + kPrefix, static_cast<std::streamsize>(size - kPrefix));
      info = media::ProbeImage(bytes, "image");
    }
    if (!info.ok()) {
      return LineError(item.line, "image " + path + ": " + info.error().message, info.error().code,
                       "image");
    }
    if (info->width > media::kMaxDecodeSide || info->height > media::kMaxDecodeSide ||
        static_cast<int64_t>(info->width) * info->height > media::kMaxDecodePixels) {
      return LineError(item.line,
                       "image " + path + ": " + std::to_string(info->width) + "x" +
                           std::to_string(info->height) + " pixels, over the decode limit",
                       "image_too_large", "image");
    }
  }
  return OkStatus();
}

Status AttachImages(WorkItem& item) {
  if (item.image_files.empty()) return OkStatus();
  Message& user = item.chat.messages.back();
  for (const auto& path : item.image_files) {
    auto url = media::MediaArgToUrl(path, media::MediaArgKind::kImage);
    if (!url.ok()) return LineError(item.line, url.error().message, url.error().code, "image");
    ContentPart part;
    part.type = PartType::kImage;
    part.url = std::move(url).value();
    user.content.push_back(std::move(part));
    user.content_is_string = false;
  }
  item.image_files.clear();
  return OkStatus();
}

int64_t EstimatePromptTokens(const WorkItem& item) {
  if (item.endpoint == Endpoint::kEmbeddings) {
    int64_t n = 0;
    for (const auto& t : item.embed.inputs) n += text::CountText(item.embed.model, t).tokens;
    return n;
  }
  int64_t n = text::CountPrompt(item.chat.model, item.chat).tokens;
  n += static_cast<int64_t>(item.image_files.size()) * text::kImageTokensHigh;
  return n;
}

}  // namespace modelmux::batch
