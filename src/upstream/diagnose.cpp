#include "upstream/diagnose.hpp"

#include <array>
#include <utility>

namespace modelmux::upstream {
namespace {

bool Has(std::string_view haystack, std::string_view needle) {
  return haystack.find(needle) != std::string_view::npos;
}

// "OPENAI_API_KEY" -> "the key in $OPENAI_API_KEY"; literal/file sources read naturally too.
std::string Source(std::string_view source, std::string_view what) {
  if (source.empty()) return "no " + std::string(what) + " (none is configured)";
  if (source == "config") return "the " + std::string(what) + " written in the config file";
  if (source.starts_with("file:")) {
    return "the " + std::string(what) + " read from " + std::string(source.substr(5));
  }
  return "the " + std::string(what) + " in $" + std::string(source);
}

void Add(std::string& checks, int& n, std::string_view line) {
  checks += std::to_string(++n) + ". " + std::string(line) + "\n";
}

Diagnosis Authentication(const Error& e, const CredentialInfo& c) {
  Diagnosis d;
  const std::string key = Source(c.api_key_source, "key");
  const std::string secret = Source(c.secret_key_source, "secret");
  const std::string_view t = c.provider_type;
  const std::string_view pc = e.provider_code;
  int n = 0;
  if (c.api_key_source.empty()) {
    d.summary = "the provider wants a credential and none is configured";
    Add(d.checks, n, "set the provider's key variable (`modelmux providers` lists which one)");
    return d;
  }
  if (t == "qianfan") {
    if (e.code == "token_expired" || pc == "110" || pc == "111") {
      d.summary = "Qianfan refused the access token even after a fresh exchange";
      Add(d.checks, n, "the application may have been deleted or its keys rotated in the console");
      Add(d.checks, n,
          "the token endpoint and the chat endpoint must be the same deployment "
          "(check QIANFAN_BASE_URL)");
    } else {
      d.summary = "Qianfan refused the API_KEY + SECRET_KEY pair at the token exchange";
      Add(d.checks, n,
          key + " and " + secret + " must be the API Key and Secret Key of the same application");
      Add(d.checks, n, "copy both again from the console; a stray space or quote breaks them");
    }
    return d;
  }
  if (t == "bedrock") {
    if (Has(pc, "Signature") || Has(e.message, "signature")) {
      d.summary = "AWS computed a different request signature";
      Add(d.checks, n, secret + " does not belong to " + key);
      Add(d.checks, n, "the machine's clock is off by more than 5 minutes (check `date -u`)");
      Add(d.checks, n,
          "temporary credentials need their session token in $AWS_SESSION_TOKEN, "
          "and expire");
    } else {
      d.summary = "AWS does not know the access key";
      Add(d.checks, n, key + " is wrong, deleted or inactive (IAM console)");
      Add(d.checks, n, "temporary credentials expired; refresh them (and $AWS_SESSION_TOKEN)");
    }
    return d;
  }
  if (t == "hunyuan") {
    d.summary = "Tencent Cloud refused the TC3 signature or the SecretId";
    if (Has(pc, "SignatureExpire")) {
      Add(d.checks, n, "the machine's clock is off (signatures live 5 minutes; check `date -u`)");
    }
    Add(d.checks, n, secret + " does not belong to " + key);
    Add(d.checks, n, "the SecretId was disabled or deleted in the CAM console");
    return d;
  }
  if (t == "zhipu") {
    d.summary = "Zhipu refused the key (or the token signed with it)";
    Add(d.checks, n, key + " must be the whole `id.secret` string from the console");
    Add(d.checks, n, "the machine's clock is off (the signed token carries timestamps)");
    return d;
  }
  d.summary = "the provider refused " + key;
  Add(d.checks, n, "the key is mistyped, revoked or expired (create a new one in the console)");
  Add(d.checks, n,
      "the key belongs to another provider or endpoint; keys are not interchangeable "
      "(base URL: " +
          c.base_url + ")");
  if (t == "azure") {
    Add(d.checks, n,
        "Azure keys belong to one resource: the key and AZURE_OPENAI_ENDPOINT must "
        "name the same resource");
  }
  if (t == "openai") {
    Add(d.checks, n,
        "a project key needs the project's access to the API; check its "
        "organization/project in the dashboard");
  }
  return d;
}

Diagnosis Permission(const Error& e, const CredentialInfo& c) {
  Diagnosis d;
  const std::string_view t = c.provider_type;
  int n = 0;
  d.summary = "the credential is valid but not allowed to make this call";
  Add(d.checks, n,
      "permission scope: the key, role or project lacks access to this model or API"
      " (restricted keys, model access not granted, service not activated)");
  if (t == "bedrock") {
    Add(d.checks, n,
        "region: the model must be enabled for the account in " +
            (c.region.empty() ? std::string("the configured region") : c.region) +
            " (Bedrock console, Model access)");
    Add(d.checks, n,
        "the IAM policy must allow bedrock:InvokeModel / "
        "bedrock:InvokeModelWithResponseStream on the model");
  } else if (t == "azure") {
    Add(d.checks, n,
        "region/deployment: the deployment must exist in the resource the endpoint "
        "names");
  } else if (t == "gemini") {
    Add(d.checks, n,
        "the Generative Language API must be enabled for the key's project; some "
        "regions are not served");
  } else {
    Add(d.checks, n, "region: some models are served only in some regions or endpoints");
  }
  Add(d.checks, n,
      "IP allowlist: the provider (or your organisation's policy) may accept calls "
      "only from listed addresses; add this machine's egress IP");
  if (Has(e.message, "IP") || Has(e.message, "ip ") || Has(e.provider_code, "Ip")) {
    d.summary = "the provider refused this machine's address (IP allowlist)";
  }
  return d;
}

}  // namespace

std::string_view ProbeModel(std::string_view provider_type) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 11> kProbe = {{
      {"openai", "gpt-4o-mini"},
      {"anthropic", "claude-3-5-haiku-latest"},
      {"gemini", "gemini-2.0-flash"},
      {"qianfan", "ernie-speed-8k"},
      {"dashscope", "qwen-turbo"},
      {"zhipu", "glm-4-flash"},
      {"deepseek", "deepseek-chat"},
      {"moonshot", "moonshot-v1-8k"},
      {"bedrock", "amazon.nova-micro-v1:0"},
      {"hunyuan", "hunyuan-lite"},
      {"sim", "echo"},
  }};
  for (const auto& [type, model] : kProbe) {
    if (type == provider_type) return model;
  }
  return {};
}

Diagnosis Diagnose(const Error& e, const CredentialInfo& c) {
  switch (e.kind) {
    case ErrorKind::kAuthentication:
      return Authentication(e, c);
    case ErrorKind::kPermission:
      return Permission(e, c);
    case ErrorKind::kBilling:
    case ErrorKind::kQuotaExhausted:
      return {"the account has no balance or its quota is used up",
              "1. top up or raise the quota in the provider's console\n"};
    case ErrorKind::kRateLimited:
      return {"the provider is rate limiting this key right now (the key itself works)", ""};
    case ErrorKind::kNotFound:
      return {"the provider does not know the model (or deployment) probed",
              "1. name a model the account can use: `modelmux doctor --model NAME`, or list it "
              "under the provider's `models` in the config\n"};
    case ErrorKind::kTimeout:
      return {"no answer in time from " + c.base_url,
              "1. check the network path and proxy (HTTPS_PROXY / NO_PROXY)\n"};
    case ErrorKind::kUpstreamError:
    case ErrorKind::kUnavailable:
    case ErrorKind::kOverloaded:
      if (e.upstream_status == 0) {
        return {"could not reach " + c.base_url,
                "1. check the host name, port and scheme of the base URL\n"
                "2. check DNS, firewalls and the proxy (HTTPS_PROXY / NO_PROXY)\n"
                "3. for TLS errors, check the CA bundle (tls.ca_file) and the machine's clock\n"};
      }
      return {"the provider answered with a server error; it is not a credential problem", ""};
    default:
      return {"the call failed: " + std::string(ErrorKindName(e.kind)), ""};
  }
}

}  // namespace modelmux::upstream
