// The image policy: parsing the `image_policy` JSON object and layering a request's policy over
// the model config's.

#include <boost/json.hpp>
#include <string>

#include "media/image.hpp"

namespace modelmux::media {
namespace {

namespace json = boost::json;

Error Bad(std::string_view field, std::string message) {
  std::string param = "image_policy";
  if (!field.empty()) param += "." + std::string(field);
  return InvalidRequest(std::move(message), std::move(param), "invalid_image_policy");
}

// An integer in [lo, hi]; doubles with no fraction are accepted (JSON has one number type).
Result<int> IntField(std::string_view field, const json::value& v, int lo, int hi) {
  int64_t n = 0;
  if (v.is_int64()) {
    n = v.get_int64();
  } else if (v.is_uint64()) {
    n = v.get_uint64() > static_cast<uint64_t>(hi) ? int64_t{hi} + 1
                                                   : static_cast<int64_t>(v.get_uint64());
  } else if (v.is_double() &&
             v.get_double() == static_cast<double>(static_cast<int64_t>(v.get_double()))) {
    n = static_cast<int64_t>(v.get_double());
  } else {
    return Bad(field, std::string(field) + " must be an integer");
  }
  if (n < lo || n > hi) {
    return Bad(field, std::string(field) + " must be between " + std::to_string(lo) + " and " +
                          std::to_string(hi));
  }
  return static_cast<int>(n);
}

Result<std::string> StringField(std::string_view field, const json::value& v) {
  if (!v.is_string()) return Bad(field, std::string(field) + " must be a string");
  return std::string(v.get_string());
}

}  // namespace

Result<ImagePolicy> ParseImagePolicy(std::string_view json_object) {
  json::error_code ec;
  const json::value root = json::parse(json_object, ec);
  if (ec) return Bad("", "image_policy is not valid JSON");
  if (!root.is_object()) return Bad("", "image_policy must be an object");
  ImagePolicy p;
  for (const auto& [key_sv, v] : root.get_object()) {
    const std::string_view key(key_sv.data(), key_sv.size());
    if (v.is_null()) continue;
    if (key == "max_side") {
      MM_TRY(p.max_side, IntField(key, v, 0, kMaxDecodeSide));
    } else if (key == "quality") {
      MM_TRY(p.quality, IntField(key, v, 0, 100));
    } else if (key == "format") {
      MM_TRY(std::string s, StringField(key, v));
      if (s == "auto") {
        p.format = ImageFormat::kUnknown;
      } else {
        p.format = ImageFormatFromName(s);
        if (p.format != ImageFormat::kJpeg && p.format != ImageFormat::kWebp &&
            p.format != ImageFormat::kPng) {
          return Bad(key, "format must be one of jpeg, webp, png, auto");
        }
      }
    } else if (key == "detail") {
      MM_TRY(std::string s, StringField(key, v));
      if (s != "low" && s != "high" && s != "auto") {
        return Bad(key, "detail must be one of low, high, auto");
      }
      p.detail = std::move(s);
    } else if (key == "lean") {
      MM_TRY(std::string s, StringField(key, v));
      if (s == "smaller") {
        p.lean = Lean::kSmaller;
      } else if (s == "balanced") {
        p.lean = Lean::kBalanced;
      } else if (s == "sharper") {
        p.lean = Lean::kSharper;
      } else {
        return Bad(key, "lean must be one of smaller, balanced, sharper");
      }
    } else if (key == "force") {
      if (!v.is_bool()) return Bad(key, "force must be a boolean");
      p.force = v.get_bool();
    } else {
      return Bad(key, "unknown image_policy field " + std::string(key));
    }
  }
  return p;
}

ImagePolicy MergePolicy(const ImagePolicy& base, const ImagePolicy& override_) {
  ImagePolicy p = base;
  if (override_.max_side != 0) p.max_side = override_.max_side;
  if (override_.quality != 0) p.quality = override_.quality;
  if (override_.format != ImageFormat::kUnknown) p.format = override_.format;
  if (!override_.detail.empty()) p.detail = override_.detail;
  if (override_.lean != Lean::kBalanced) p.lean = override_.lean;
  p.force = base.force || override_.force;
  return p;
}

}  // namespace modelmux::media
