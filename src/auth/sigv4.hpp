#pragma once
// AWS Signature Version 4 (header form), for Bedrock and any other AWS service, plus discovery of
// credentials from the environment and ~/.aws/credentials. Pure: the time is passed in; no I/O
// except AwsCredentialsFrom reading the credentials file. Thread-safe.
//
// What the caller must send (Bedrock): the request path encoded ONCE, e.g. a model id
// `anthropic.claude-3-5-sonnet-20240620-v1:0` goes on the wire as
// `/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse`. Pass exactly that string as
// SigV4Request::path; with double_encode_path (every service except S3) the canonical URI encodes
// it again (`v1%253A0`), as AWS expects. Send the same host (with port if not the default), query
// and body bytes that were signed, plus every returned header.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace modelmux::auth {

using HeaderPairs = std::vector<std::pair<std::string, std::string>>;

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty for long-term credentials
};

struct SigV4Request {
  std::string method;   // "POST"
  std::string host;     // "bedrock-runtime.us-east-1.amazonaws.com"; used unless headers has Host
  std::string path;     // as sent on the wire (already percent-encoded once); empty means "/"
  std::string query;    // raw query string as sent, without '?'; may be empty
  HeaderPairs headers;  // headers to sign (all of them are signed), e.g. content-type
  std::string body;     // the exact body bytes
};

struct SigV4Options {
  // true for every service except S3: each path segment is URI-encoded again.
  bool double_encode_path = true;
  // Adds and signs x-amz-content-sha256 (Bedrock accepts it; S3 requires it).
  bool add_content_sha256 = true;
};

// Intermediate values, exposed for tests and debugging (contain no secret).
struct SigV4Signature {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;  // lowercase hex
  HeaderPairs headers;    // the headers to add to the request (see SignV4)
};

// Signs the request. Returns the headers to add, in this order: x-amz-date,
// x-amz-content-sha256 (if options.add_content_sha256), x-amz-security-token (if the credentials
// carry a session token), authorization. Caller headers named x-amz-date, x-amz-content-sha256,
// x-amz-security-token or authorization are ignored (the returned ones replace them).
// Errors: kAuthentication (code "aws_credentials_missing") when the key id or secret is empty;
// kInvalidRequest (code "sigv4_invalid_request") for an empty method, host, region or service, or
// a path that does not start with '/'.
[[nodiscard]] Result<HeaderPairs> SignV4(const SigV4Request& request,
                                         const AwsCredentials& credentials, std::string_view region,
                                         std::string_view service,
                                         std::chrono::system_clock::time_point now,
                                         bool double_encode_path = true);
// Same, with all options, returning the intermediate values as well.
[[nodiscard]] Result<SigV4Signature> SignV4Detailed(const SigV4Request& request,
                                                    const AwsCredentials& credentials,
                                                    std::string_view region,
                                                    std::string_view service,
                                                    std::chrono::system_clock::time_point now,
                                                    const SigV4Options& options);

// RFC 3986 percent-encoding with uppercase hex; unreserved characters (A-Z a-z 0-9 - _ . ~) are
// kept, and '/' too when keep_slash.
[[nodiscard]] std::string AwsUriEncode(std::string_view s, bool keep_slash);

// Looks a variable up in the environment (injected; return nullopt when unset).
using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;

// Credentials from AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN) when both are
// set and non-empty; otherwise from the profile AWS_PROFILE (default "default") of the file
// AWS_SHARED_CREDENTIALS_FILE, or else `home_dir`/.aws/credentials (INI: [profile], key = value,
// '#' and ';' comments). Errors: kAuthentication, code "aws_credentials_missing", when nothing is
// found or the profile lacks a key id or secret. Messages never contain secret values.
[[nodiscard]] Result<AwsCredentials> AwsCredentialsFrom(const EnvLookup& env,
                                                        const std::string& home_dir);

}  // namespace modelmux::auth
