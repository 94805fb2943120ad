#include "routing/describe.hpp"

#include <boost/json.hpp>

namespace modelmux::routing {
namespace json = boost::json;

namespace {

Error Bad(std::string message, std::string param, std::string code = "invalid_value") {
  Error e = InvalidRequest(std::move(message), std::move(param));
  e.code = std::move(code);
  return e;
}

std::string Instruction(const DescribeInput& in) {
  const char* what = in.video ? "video" : "image";
  std::string text;
  switch (in.task) {
    case DescribeTask::kCaption:
      text = std::string("Describe this ") + what +
             " in one or two sentences: the main subject, the setting and anything notable.";
      break;
    case DescribeTask::kOcr:
      text = std::string("Transcribe all text visible in this ") + what +
             " exactly as written, keeping line breaks. Answer with the text only; if there is "
             "none, answer with an empty line.";
      break;
    case DescribeTask::kQa:
      text = "Answer the question about this " + std::string(what) + ": " + in.question;
      break;
  }
  if (in.language == "zh") text += " 请用中文回答。";
  if (in.language == "en") text += " Answer in English.";
  return text;
}

}  // namespace

Result<DescribeTask> ParseDescribeTask(std::string_view name) {
  if (name.empty() || name == "caption" || name == "image-captioning" ||
      name == "video-captioning" || name == "captioning") {
    return DescribeTask::kCaption;
  }
  if (name == "ocr" || name == "text-recognition") return DescribeTask::kOcr;
  if (name == "qa" || name == "vqa" || name == "visual-question-answering") {
    return DescribeTask::kQa;
  }
  return Bad("Invalid value for 'task': '" + std::string(name) +
                 "'. Supported values are: 'image-captioning' (or 'caption'), 'ocr' and 'qa'.",
             "task");
}

std::string_view DescribeTaskName(DescribeTask task) {
  switch (task) {
    case DescribeTask::kCaption:
      return "caption";
    case DescribeTask::kOcr:
      return "ocr";
    case DescribeTask::kQa:
      return "qa";
  }
  return "caption";
}

Result<ChatRequest> BuildDescribeRequest(const DescribeInput& in) {
  if (in.task == DescribeTask::kQa && in.question.empty()) {
    return Bad("The 'qa' task needs a 'question'.", "question", "missing_required_parameter");
  }
  if (in.media.empty()) {
    return Bad("Give an 'image' or a 'video'.", "image", "missing_required_parameter");
  }
  ChatRequest req;
  req.model = in.model;
  req.max_tokens = in.max_tokens;
  Message user;
  user.role = Role::kUser;
  user.content_is_string = false;
  ContentPart text;
  text.type = PartType::kText;
  text.text = Instruction(in);
  user.content.push_back(std::move(text));
  ContentPart media;
  media.type = in.video ? PartType::kVideo : PartType::kImage;
  media.url = in.media;
  media.detail = in.detail;
  user.content.push_back(std::move(media));
  req.messages.push_back(std::move(user));
  return req;
}

Result<DescribeInput> ParseDescribeBody(std::string_view body, std::string_view default_model) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec);
  if (ec) {
    return Bad("We could not parse the JSON body of your request.", "", "invalid_json");
  }
  if (!v.is_object()) return Bad("The request body must be a JSON object.", "", "invalid_type");
  const json::object& o = v.get_object();
  auto str = [&](std::string_view key, std::string& out) -> Status {
    const json::value* f = o.if_contains(key);
    if (f == nullptr || f->is_null()) return OkStatus();
    if (!f->is_string()) {
      return Bad("Invalid type for '" + std::string(key) + "': expected a string.",
                 std::string(key), "invalid_type");
    }
    out = std::string(f->get_string());
    return OkStatus();
  };
  DescribeInput in;
  std::string image, video, task;
  MM_RETURN_IF_ERROR(str("image", image));
  MM_RETURN_IF_ERROR(str("video", video));
  MM_RETURN_IF_ERROR(str("task", task));
  MM_RETURN_IF_ERROR(str("question", in.question));
  MM_RETURN_IF_ERROR(str("model", in.model));
  MM_RETURN_IF_ERROR(str("detail", in.detail));
  MM_RETURN_IF_ERROR(str("language", in.language));
  if (const json::value* mt = o.if_contains("max_tokens"); mt && !mt->is_null()) {
    if (!mt->is_int64() || mt->get_int64() < 1) {
      return Bad("Invalid value for 'max_tokens': expected a positive integer.", "max_tokens");
    }
    in.max_tokens = mt->get_int64();
  }
  if (!image.empty() && !video.empty()) {
    return Bad("Give either 'image' or 'video', not both.", "video");
  }
  if (image.empty() && video.empty()) {
    return Bad("Missing required parameter: 'image' (or 'video').", "image",
               "missing_required_parameter");
  }
  in.video = !video.empty();
  std::string media = in.video ? std::move(video) : std::move(image);
  if (media.starts_with("data:") || media.starts_with("http://") || media.starts_with("https://")) {
    in.media = std::move(media);
  } else {
    // The seed's form: bare base64. The media stage sniffs the real type.
    in.media = std::string(in.video ? "data:video/mp4;base64," : "data:image/jpeg;base64,") + media;
  }
  MM_TRY(in.task, ParseDescribeTask(task));
  if (in.model.empty()) in.model = std::string(default_model);
  if (in.model.empty()) {
    return Bad("Missing required parameter: 'model' (no media.describe_model is configured).",
               "model", "missing_required_parameter");
  }
  if (in.task == DescribeTask::kQa && in.question.empty()) {
    return Bad("The 'qa' task needs a 'question'.", "question", "missing_required_parameter");
  }
  return in;
}

}  // namespace modelmux::routing
