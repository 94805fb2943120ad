#pragma once
// Error bodies of the OpenAI-compatible family (Azure OpenAI, Zhipu GLM, DeepSeek, Moonshot)
// mapped to the taxonomy. Each starts from openai::DecodeError (same shape, codes and masking) and
// corrects the kind where the provider's codes or statuses mean something else. The provider's
// own code (or type) stays in provider_code; `code` is set to our stable code where the kind was
// changed. Pure, thread-safe.

#include <string_view>

#include "core/error.hpp"

namespace modelmux::dialects::openai {

// Azure OpenAI. Besides OpenAI's codes: code "content_filter", an innererror whose code is
// "ResponsibleAIPolicyViolation", or an innererror carrying content_filter_result(s) ->
// kContentFilter (code "content_filter"); code "DeploymentNotFound" -> kNotFound (code
// "model_not_found").
[[nodiscard]] Error DecodeAzureError(int http_status, std::string_view body);

// Zhipu GLM: {"error":{"code":"1302","message":...}} (code a string or a number).
//   1000-1004 -> kAuthentication (invalid_api_key); 1113 (in arrears) -> kBilling
//   (insufficient_balance); other 1110-1121 -> kPermission; 1211 -> kNotFound (model_not_found);
//   other 1210-1234 -> kInvalidRequest; 1301 -> kContentFilter (content_filter);
//   1302, 1303, 1305 -> kRateLimited (rate_limit_exceeded); anything else: by HTTP status.
[[nodiscard]] Error DecodeZhipuError(int http_status, std::string_view body);

// DeepSeek: 402 (Insufficient Balance) -> kBilling (insufficient_balance); 422 -> kInvalidRequest;
// 503 (server overloaded) -> kOverloaded; a message about the maximum context length ->
// kContextLength (context_length_exceeded).
[[nodiscard]] Error DecodeDeepSeekError(int http_status, std::string_view body);

// Moonshot (Kimi): {"error":{"type","message"}}. exceeded_current_quota_error ->
// kQuotaExhausted (insufficient_quota; never retried); rate_limit_reached_error -> kRateLimited;
// engine_overloaded_error -> kOverloaded; invalid_authentication_error -> kAuthentication;
// permission_denied_error -> kPermission; resource_not_found_error -> kNotFound;
// an invalid_request_error saying the token limit was exceeded -> kContextLength.
[[nodiscard]] Error DecodeMoonshotError(int http_status, std::string_view body);

}  // namespace modelmux::dialects::openai
