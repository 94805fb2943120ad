// `modelmux batch` from the built binary against `modelmux sim` (issue 8, reliability.md 26):
// input checks before any spend (line numbers, duplicate ids, images), the dry-run estimate, both
// output formats, the errors file and --retry-failed, resume, client-side RPM and the pause on 429.

#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "gateway_it.hpp"

namespace modelmux::testing {
namespace {

constexpr auto kShort = 10s;

// A 1x1 PNG.
const std::string kPng(
    "\x89\x50\x4e\x47\x0d\x0a\x1a\x0a\x00\x00\x00\x0d\x49\x48\x44\x52\x00\x00\x00\x01\x00\x00\x00"
    "\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\x0d\x49\x44\x41\x54\x78\xda\x63\x64\x60"
    "\xf8\x5f\x0f\x00\x02\x87\x01\x80\xeb\x47\xba\x92\x00\x00\x00\x00\x49\x45\x4e\x44\xae\x42\x60"
    "\x82",
    67);

int64_t IntAt(const json::value& v, std::initializer_list<std::string_view> path) {
  const json::value* cur = &v;
  for (auto key : path) {
    if (!cur->is_object()) return 0;
    cur = cur->get_object().if_contains(key);
    if (cur == nullptr) return 0;
  }
  return cur->is_int64() ? cur->get_int64() : (cur->is_uint64() ? int64_t(cur->get_uint64()) : 0);
}

int64_t SimTotal(const Service& sim) {
  return IntAt(ParseJson(Http("GET", sim.base_url + "/sim/stats", {}, {}, kShort).body), {"total"});
}
int64_t SimStatus(const Service& sim, std::string_view status) {
  return IntAt(ParseJson(Http("GET", sim.base_url + "/sim/stats", {}, {}, kShort).body),
               {"by_status", status});
}

std::vector<std::string> ReadLines(const std::filesystem::path& p) {
  std::vector<std::string> out;
  std::ifstream in(p);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

struct CliRun {
  int code = -1;
  std::string err;
};

// Runs `modelmux batch ARGS...` to its end.
CliRun Batch(std::vector<std::string> args, std::chrono::milliseconds timeout = 60s) {
  args.insert(args.begin(), "batch");
  auto p = Process::Start(ModelmuxBin(), args);
  CliRun r;
  auto code = p->Wait(timeout);
  r.code = code.value_or(-1);
  r.err = p->stderr_tail();
  return r;
}

class BatchTest : public ::testing::Test {
 protected:
  // A config with one simulator provider `up` (x-sim-* controls pass) and one OpenAI-typed one
  // `oa` on the same simulator (for prices).
  std::string Config(const Service& sim) {
    return dir_.Write("modelmux.yaml", "providers:\n  up: {type: sim, base_url: \"" + sim.base_url +
                                           "/v1\"}\n  oa: {type: openai, base_url: \"" +
                                           sim.base_url + "/v1\", api_key: sk-test}\n");
  }
  std::string In(const std::string& content) { return dir_.Write("in.jsonl", content); }
  std::string Out() const { return (dir_.path() / "out.jsonl").string(); }
  std::string Errs() const { return (dir_.path() / "out.errors.jsonl").string(); }
  std::string SimpleLines(int from, int to) {
    std::string s;
    for (int i = from; i < to; ++i) {
      s +=
          R"({"id":)" + std::to_string(i) + R"(,"prompt":"question )" + std::to_string(i) + "\"}\n";
    }
    return s;
  }
  TempDir dir_;
};

TEST_F(BatchTest, MalformedInputIsReportedWithLineNumbersBeforeAnySpend) {
  Service sim = StartSim();
  const std::string png = dir_.Write("ok.png", kPng);
  std::string big(10u << 20, 'a');  // a 10 MB prompt: a valid line
  std::string text = "\xEF\xBB\xBF{\"id\":\"a\",\"prompt\":\"x\"}\r\n";  // 1: BOM + CRLF
  text += "{\"id\":\"b\",\"prompt\":\n";                                 // 2: not JSON
  text += "{\"id\":\"a\",\"prompt\":\"again\"}\n";                       // 3: duplicate
  text += "{\"id\":\"c\",\"prompt\":\"x\",\"image\":\"" + (dir_.path() / "nope.png").string() +
          "\"}\n";                                                        // 4: missing image
  text += "{\"id\":\"d\",\"prompt\":\"" + big + "\"}\n";                  // 5: 10 MB, fine
  text += "{\"id\":\"e\",\"prompt\":\"x\",\"image\":\"" + png + "\"}\n";  // 6: fine
  text += "{\"custom_id\":\"f\",\"method\":\"POST\",\"url\":\"/v1/files\",\"body\":{}}\n";  // 7
  text += "{\"id\":\"g\",\"prompt\":\"last line without a newline\"}";  // 8: fine
  const std::string in = In(text);
  CliRun r = Batch({in, "-o", Out(), "--config", Config(sim), "-m", "up/m"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("line 2: not valid JSON"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("line 3: duplicate id \"a\" (first on line 1)"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("line 4: image"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("[image_not_found]"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("line 7: "), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("line 1:"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("line 5:"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("line 6:"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("line 8:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("4 of 8 lines are invalid"), std::string::npos) << r.err;
  EXPECT_EQ(SimTotal(sim), 0);
  EXPECT_FALSE(std::filesystem::exists(Out()));

  // The same image over a byte limit is refused too.
  In("{\"id\":1,\"prompt\":\"x\",\"image\":\"" + png + "\"}\n");
  r = Batch({in, "-o", Out(), "--config", Config(sim), "-m", "up/m", "--max-image-bytes", "10"});
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("line 1: image"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("[image_too_large]"), std::string::npos) << r.err;
  EXPECT_EQ(SimTotal(sim), 0);
}

TEST_F(BatchTest, DryRunEstimatesTokensAndCost) {
  Service sim = StartSim();
  const std::string in =
      In("{\"id\":1,\"prompt\":\"hello world\"}\n{\"id\":2,\"prompt\":\"hello world\"}\n");
  const std::string report = (dir_.path() / "dry.json").string();
  CliRun r = Batch({in, "-o", Out(), "--config", Config(sim), "-m", "oa/gpt-4o-mini",
                    "--max-tokens", "10", "--dry-run", "--report", report});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(SimTotal(sim), 0);
  json::value v = ParseJson(ReadLines(report).at(0));
  // OpenAI's recipe: 3 per message + "user" (1) + "hello world" (2) + 3 priming = 9 per line.
  EXPECT_EQ(IntAt(v, {"models", "oa/gpt-4o-mini", "prompt_tokens"}), 18);
  EXPECT_EQ(IntAt(v, {"models", "oa/gpt-4o-mini", "output_tokens"}), 20);
  // Each line is priced as its request will be billed: 9 x $0.15/M + 10 x $0.60/M = 7.35
  // micro-dollars, rounded half-up to 7; two lines make 14.
  EXPECT_EQ(IntAt(v, {"models", "oa/gpt-4o-mini", "cost_micros"}), 14);
  EXPECT_FALSE(std::filesystem::exists(Out()));
}

TEST_F(BatchTest, BothOutputFormats) {
  Service sim = StartSim();
  const std::string png = dir_.Write("ok.png", kPng);
  const std::string in = In(
      R"({"custom_id":"req-1","method":"POST","url":"/v1/chat/completions","body":{"model":"up/m","messages":[{"role":"user","content":"hi"}]}})"
      "\n"
      R"({"id":2,"prompt":"what is in the picture","image":")" +
      png + "\"}\n" +
      R"({"custom_id":"emb","method":"POST","url":"/v1/embeddings","body":{"model":"up/e","input":"abc"}})"
      "\n");
  CliRun r = Batch({in, "-o", Out(), "--config", Config(sim), "-m", "up/m"});
  ASSERT_EQ(r.code, 0) << r.err;
  auto lines = ReadLines(Out());
  ASSERT_EQ(lines.size(), 3u);
  std::set<std::string> seen;
  for (const auto& line : lines) {
    json::value v = ParseJson(line);
    ASSERT_TRUE(v.is_object()) << line;
    const auto& o = v.get_object();
    if (o.contains("custom_id")) {
      seen.insert(Str(o.at("custom_id")));
      EXPECT_TRUE(Str(o.at("id")).starts_with("batch_req_")) << line;
      EXPECT_TRUE(o.at("error").is_null()) << line;
      EXPECT_EQ(IntAt(v, {"response", "status_code"}), 200) << line;
      const auto& body = o.at("response").at("body").get_object();
      if (Str(o.at("custom_id")) == "req-1") {
        EXPECT_EQ(Str(body.at("object")), "chat.completion") << line;
        EXPECT_GT(IntAt(v, {"response", "body", "usage", "prompt_tokens"}), 0) << line;
      } else {
        EXPECT_EQ(Str(body.at("object")), "list") << line;
      }
    } else {
      seen.insert("simple");
      EXPECT_EQ(IntAt(v, {"id"}), 2) << line;
      EXPECT_TRUE(o.at("response").is_string()) << line;
      EXPECT_FALSE(Str(o.at("response")).empty()) << line;
      EXPECT_GT(IntAt(v, {"usage", "total_tokens"}), 0) << line;
    }
  }
  EXPECT_EQ(seen, (std::set<std::string>{"req-1", "emb", "simple"}));
  EXPECT_EQ(SimTotal(sim), 3);
}

TEST_F(BatchTest, ErrorsFileThenRetryFailed) {
  Service sim = StartSim();
  const std::string in = In(SimpleLines(0, 4));
  const std::string cfg = Config(sim);
  CliRun r =
      Batch({in, "-o", Out(), "--config", cfg, "-m", "up/m", "--header", "x-sim-status: 400"});
  EXPECT_EQ(r.code, 3) << r.err;  // some lines failed
  EXPECT_TRUE(ReadLines(Out()).empty());
  auto errs = ReadLines(Errs());
  ASSERT_EQ(errs.size(), 4u);
  for (const auto& line : errs) {
    json::value v = ParseJson(line);
    EXPECT_EQ(IntAt(v, {"error", "status"}), 400) << line;
    EXPECT_FALSE(Str(v.at("error").at("message")).empty()) << line;
  }
  EXPECT_EQ(SimTotal(sim), 4);

  // A plain re-run: failed ids count as done.
  r = Batch({in, "-o", Out(), "--config", cfg, "-m", "up/m"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(SimTotal(sim), 4);

  // --retry-failed runs exactly those, now successfully.
  r = Batch({in, "-o", Out(), "--config", cfg, "-m", "up/m", "--retry-failed"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(ReadLines(Out()).size(), 4u);
  EXPECT_EQ(SimTotal(sim), 8);

  // Nothing is left to retry.
  r = Batch({in, "-o", Out(), "--config", cfg, "-m", "up/m", "--retry-failed"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(SimTotal(sim), 8);
  EXPECT_EQ(ReadLines(Out()).size(), 4u);
}

TEST_F(BatchTest, ResumeSkipsDoneIdsAndCutsATornLine) {
  Service sim = StartSim();
  const std::string cfg = Config(sim);
  In(SimpleLines(0, 5));
  const std::string report = (dir_.path() / "report.json").string();
  CliRun r =
      Batch({(dir_.path() / "in.jsonl").string(), "-o", Out(), "--config", cfg, "-m", "up/m"});
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(ReadLines(Out()).size(), 5u);
  // A crash in the middle of a write leaves a torn line behind.
  { std::ofstream(Out(), std::ios::app) << R"({"id":99,"respo)"; }
  In(SimpleLines(0, 8));
  r = Batch({(dir_.path() / "in.jsonl").string(), "-o", Out(), "--config", cfg, "-m", "up/m",
             "--resume", "--report", report});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(SimTotal(sim), 8);
  auto lines = ReadLines(Out());
  ASSERT_EQ(lines.size(), 8u);
  std::set<int64_t> ids;
  for (const auto& l : lines) ids.insert(IntAt(ParseJson(l), {"id"}));
  EXPECT_EQ(ids.size(), 8u);
  json::value rep = ParseJson(ReadLines(report).at(0));
  EXPECT_EQ(IntAt(rep, {"total"}), 8);
  EXPECT_EQ(IntAt(rep, {"skipped"}), 5);
  EXPECT_EQ(IntAt(rep, {"ok"}), 3);
  EXPECT_EQ(IntAt(rep, {"failed"}), 0);
}

TEST_F(BatchTest, ClientSideRpmKeepsTheProviderUnderItsLimit) {
  // The simulator allows 10 requests per 2 s window; the batch is told the same.
  Service sim = StartSim({"--rpm", "10", "--window-s", "2"});
  const std::string in = In(SimpleLines(0, 25));
  const std::string report = (dir_.path() / "report.json").string();
  const auto start = std::chrono::steady_clock::now();
  CliRun r = Batch({in, "-o", Out(), "--config", Config(sim), "-m", "up/m", "--rpm", "10",
                    "--window-s", "2", "-c", "8", "--report", report});
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(SimStatus(sim, "429"), 0);
  EXPECT_EQ(SimTotal(sim), 25);
  EXPECT_EQ(ReadLines(Out()).size(), 25u);
  // 25 requests at 10 per 2 s: the last one no earlier than ~4.8 s after the first.
  EXPECT_GE(took, 4500ms);
}

TEST_F(BatchTest, ProviderAnnouncedLimitsAreFollowedWithoutA429) {
  // No --rpm: the runner learns the window from the simulator's x-ratelimit-remaining-requests
  // and -reset-requests and waits for the reset when what is left is already in flight.
  Service sim = StartSim({"--rpm", "10", "--window-s", "2"});
  const std::string in = In(SimpleLines(0, 30));
  const std::string report = (dir_.path() / "report.json").string();
  const auto start = std::chrono::steady_clock::now();
  CliRun r = Batch(
      {in, "-o", Out(), "--config", Config(sim), "-m", "up/m", "-c", "4", "--report", report});
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(ReadLines(Out()).size(), 30u);
  EXPECT_EQ(SimStatus(sim, "429"), 0) << "the announced window was not followed";
  EXPECT_EQ(SimTotal(sim), 30);
  json::value rep = ParseJson(ReadLines(report).at(0));
  EXPECT_GE(IntAt(rep, {"provider_pauses"}), 2);
  EXPECT_EQ(IntAt(rep, {"rate_limited"}), 0);
  std::cerr << "30 lines at 10 per 2 s window: "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms, "
            << IntAt(rep, {"provider_pauses"}) << " provider pauses\n";
}

TEST_F(BatchTest, RateLimitPausesTheRunnerAndEveryLineSucceeds) {
  Service sim = StartSim({"--rpm", "5", "--window-s", "1"});
  const std::string in = In(SimpleLines(0, 20));
  const std::string report = (dir_.path() / "report.json").string();
  CliRun r = Batch(
      {in, "-o", Out(), "--config", Config(sim), "-m", "up/m", "-c", "4", "--report", report});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(ReadLines(Out()).size(), 20u);
  EXPECT_TRUE(ReadLines(Errs()).empty());
  // Every 429 paused the runner instead of being retried at once by every worker: at most three
  // per line (the router's attempts) and in practice far fewer.
  const int64_t rejected = SimStatus(sim, "429");
  EXPECT_LE(rejected, 60);
  json::value rep = ParseJson(ReadLines(report).at(0));
  EXPECT_EQ(IntAt(rep, {"ok"}), 20);
  std::cerr << "429s seen by the simulator: " << rejected
            << ", runner pauses: " << IntAt(rep, {"rate_limited"}) << "\n";
}

}  // namespace
}  // namespace modelmux::testing
