// The OpenAI Batch API on the gateway (issue 8), from the built binaries: `modelmux serve` in
// front of `modelmux sim`. Upload, create, poll, download; a bad input ends `failed` with line
// numbers; cancel keeps the partial output; a job survives SIGKILL of the gateway and finishes
// after a restart with every custom_id exactly once; keys see only their own files and batches;
// the retention sweep deletes what is old.

#include <signal.h>

#include <gtest/gtest.h>

#include <iostream>

#include <map>
#include <set>

#include "gateway_it.hpp"

namespace modelmux::testing {
namespace {

constexpr auto kTimeout = 20s;
const std::string kMaster = "mk-batch-api-test-master-0123456789";

std::string Config(const Service& sim, std::string_view extra = {}) {
  return "providers:\n  up: {type: openai, base_url: \"" + sim.base_url +
         "/v1\", api_key: sk-test}\n" + std::string(extra);
}

int64_t Int(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) return static_cast<int64_t>(v.get_uint64());
  return -1;
}

// A Batch API input of `n` chat lines r0..r(n-1).
std::string Lines(int n, std::string_view model = "up/gpt-4o-mini") {
  std::string s;
  for (int i = 0; i < n; ++i) {
    s += R"({"custom_id":"r)" + std::to_string(i) +
         R"(","method":"POST","url":"/v1/chat/completions","body":{"model":")" +
         std::string(model) + R"(","messages":[{"role":"user","content":"line )" +
         std::to_string(i) + "\"}]}}\n";
  }
  return s;
}

const std::string kBoundary = "----mm-batch-test-boundary";

std::string Multipart(std::string_view purpose, std::string_view content, bool with_file = true) {
  std::string b;
  b += "--" + kBoundary + "\r\nContent-Disposition: form-data; name=\"purpose\"\r\n\r\n";
  b += std::string(purpose) + "\r\n";
  if (with_file) {
    b += "--" + kBoundary +
         "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"in.jsonl\"\r\n"
         "Content-Type: application/jsonl\r\n\r\n";
    b += std::string(content) + "\r\n";
  }
  b += "--" + kBoundary + "--\r\n";
  return b;
}

HttpResult Upload(const Service& gw, std::string_view content, const std::string& key = {},
                  std::string_view purpose = "batch") {
  HeaderList h = Bearer(key);
  h.emplace_back("content-type", "multipart/form-data; boundary=" + kBoundary);
  return Http("POST", gw.base_url + "/v1/files", Multipart(purpose, content), h, kTimeout);
}

// Uploads and returns the file id (fails the test otherwise).
std::string UploadId(const Service& gw, std::string_view content, const std::string& key = {}) {
  HttpResult r = Upload(gw, content, key);
  EXPECT_EQ(r.status, 200) << r.body;
  json::value v = ParseJson(r.body);
  if (!v.is_object()) return {};
  EXPECT_EQ(Str(v.at("object")), "file");
  EXPECT_EQ(Str(v.at("purpose")), "batch");
  EXPECT_EQ(Int(v.at("bytes")), static_cast<int64_t>(content.size()));
  return Str(v.at("id"));
}

std::string CreateBatch(const Service& gw, const std::string& file_id,
                        const std::string& key = {}) {
  HttpResult r = Http("POST", gw.base_url + "/v1/batches",
                      R"({"input_file_id":")" + file_id +
                          R"(","endpoint":"/v1/chat/completions","completion_window":"24h",)"
                          R"("metadata":{"team":"it"}})",
                      Bearer(key), kTimeout);
  EXPECT_EQ(r.status, 200) << r.body;
  json::value v = ParseJson(r.body);
  if (!v.is_object()) return {};
  EXPECT_EQ(Str(v.at("object")), "batch");
  EXPECT_EQ(Str(v.at("status")), "validating");
  EXPECT_EQ(Str(v.at("input_file_id")), file_id);
  return Str(v.at("id"));
}

json::value GetBatch(const Service& gw, const std::string& id, const std::string& key = {}) {
  HttpResult r = Http("GET", gw.base_url + "/v1/batches/" + id, {}, Bearer(key), kTimeout);
  if (r.status != 200) return nullptr;
  return ParseJson(r.body);
}

// Polls until the batch's status is one of `want` (returns the batch) or the time is up.
json::value WaitFor(const Service& gw, const std::string& id, std::set<std::string> want,
                    std::chrono::milliseconds timeout = 60s, const std::string& key = {}) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  json::value last;
  while (std::chrono::steady_clock::now() < until) {
    last = GetBatch(gw, id, key);
    if (last.is_object() && want.contains(Str(last.at("status")))) return last;
    std::this_thread::sleep_for(100ms);
  }
  ADD_FAILURE() << "batch " << id << " did not reach the status; last: " << json::serialize(last);
  return last;
}

std::string Content(const Service& gw, const std::string& file_id, const std::string& key = {}) {
  HttpResult r =
      Http("GET", gw.base_url + "/v1/files/" + file_id + "/content", {}, Bearer(key), kTimeout);
  EXPECT_EQ(r.status, 200) << r.body;
  return r.body;
}

// custom_id -> how many output lines name it; every line must be a 200 response.
std::map<std::string, int> CountIds(const std::string& jsonl, bool expect_ok = true) {
  std::map<std::string, int> ids;
  size_t pos = 0;
  while (pos < jsonl.size()) {
    size_t end = jsonl.find('\n', pos);
    if (end == std::string::npos) end = jsonl.size();
    std::string_view line(jsonl.data() + pos, end - pos);
    pos = end + 1;
    if (line.empty()) continue;
    json::value v = ParseJson(line);
    EXPECT_TRUE(v.is_object()) << line;
    if (!v.is_object()) continue;
    ++ids[Str(v.at("custom_id"))];
    if (expect_ok) {
      EXPECT_EQ(Int(v.at("response").at("status_code")), 200) << line;
      EXPECT_EQ(Str(v.at("response").at("body").at("object")), "chat.completion") << line;
    }
  }
  return ids;
}

TEST(BatchApi, UploadCreatePollDownload) {
  TempDir dir;
  Service sim = StartSim();
  Service gw = StartGateway({"--config", dir.Write("c.yaml", Config(sim))});
  const std::string file_id = UploadId(gw, Lines(25));
  ASSERT_EQ(file_id.rfind("file-", 0), 0u) << file_id;

  HttpResult got = Http("GET", gw.base_url + "/v1/files/" + file_id, {}, {}, kTimeout);
  EXPECT_EQ(got.status, 200) << got.body;
  HttpResult listed = Http("GET", gw.base_url + "/v1/files?purpose=batch", {}, {}, kTimeout);
  ASSERT_EQ(listed.status, 200);
  json::value list = ParseJson(listed.body);
  ASSERT_EQ(list.at("data").as_array().size(), 1u) << listed.body;
  EXPECT_EQ(Str(list.at("first_id")), file_id);
  EXPECT_EQ(Content(gw, file_id), Lines(25));

  const std::string batch_id = CreateBatch(gw, file_id);
  ASSERT_EQ(batch_id.rfind("batch_", 0), 0u) << batch_id;
  json::value done = WaitFor(gw, batch_id, {"completed", "failed", "cancelled"});
  ASSERT_EQ(Str(done.at("status")), "completed") << json::serialize(done);
  EXPECT_EQ(Int(done.at("request_counts").at("total")), 25);
  EXPECT_EQ(Int(done.at("request_counts").at("completed")), 25);
  EXPECT_EQ(Int(done.at("request_counts").at("failed")), 0);
  EXPECT_TRUE(done.at("error_file_id").is_null());
  EXPECT_EQ(Str(done.at("metadata").at("team")), "it");
  EXPECT_GT(Int(done.at("completed_at")), 0);
  const std::string out_id = Str(done.at("output_file_id"));
  ASSERT_FALSE(out_id.empty());
  auto ids = CountIds(Content(gw, out_id));
  EXPECT_EQ(ids.size(), 25u);
  for (int i = 0; i < 25; ++i) EXPECT_EQ(ids["r" + std::to_string(i)], 1) << i;
  json::value out_file =
      ParseJson(Http("GET", gw.base_url + "/v1/files/" + out_id, {}, {}, kTimeout).body);
  EXPECT_EQ(Str(out_file.at("purpose")), "batch_output");

  HttpResult batches = Http("GET", gw.base_url + "/v1/batches?limit=1", {}, {}, kTimeout);
  ASSERT_EQ(batches.status, 200);
  EXPECT_EQ(Str(ParseJson(batches.body).at("data").at(0).at("id")), batch_id);

  // Errors in the OpenAI shape.
  HttpResult purpose = Upload(gw, Lines(1), {}, "fine-tune");
  EXPECT_EQ(purpose.status, 400);
  EXPECT_EQ(ErrorCode(purpose), "invalid_purpose");
  HeaderList mp{{"content-type", "multipart/form-data; boundary=" + kBoundary}};
  HttpResult no_file = Http("POST", gw.base_url + "/v1/files", Multipart("batch", "", false), mp);
  EXPECT_EQ(no_file.status, 400);
  EXPECT_EQ(ErrorCode(no_file), "missing_file");
  HttpResult bad_jsonl = Upload(gw, Lines(2) + "{not json\n");
  EXPECT_EQ(bad_jsonl.status, 400);
  EXPECT_EQ(ErrorCode(bad_jsonl), "invalid_jsonl");
  EXPECT_NE(bad_jsonl.body.find("line 3"), std::string::npos) << bad_jsonl.body;
  HttpResult unknown = Http("GET", gw.base_url + "/v1/batches/batch_nope", {}, {}, kTimeout);
  EXPECT_EQ(unknown.status, 404);
  ExpectOpenAiError(unknown.body);
  HttpResult put = Http("PUT", gw.base_url + "/v1/batches", "{}", {}, kTimeout);
  EXPECT_EQ(put.status, 405);
  EXPECT_EQ(put.headers.Get("allow"), "GET, POST");
  HttpResult window = Http("POST", gw.base_url + "/v1/batches",
                           R"({"input_file_id":")" + file_id +
                               R"(","endpoint":"/v1/chat/completions","completion_window":"1h"})",
                           {}, kTimeout);
  EXPECT_EQ(window.status, 400);
  EXPECT_EQ(ErrorCode(window), "invalid_completion_window");

  // Deletion.
  HttpResult del = Http("DELETE", gw.base_url + "/v1/files/" + file_id, {}, {}, kTimeout);
  EXPECT_EQ(del.status, 200) << del.body;
  EXPECT_TRUE(ParseJson(del.body).at("deleted").as_bool());
  EXPECT_EQ(Http("GET", gw.base_url + "/v1/files/" + file_id, {}, {}, kTimeout).status, 404);
}

TEST(BatchApi, MalformedLinesFailWithLineNumbers) {
  TempDir dir;
  Service sim = StartSim();
  Service gw = StartGateway({"--config", dir.Write("c.yaml", Config(sim))});
  std::string input = Lines(1);  // line 1
  input += R"({"method":"POST","url":"/v1/chat/completions","body":{}})"
           "\n";  // 2: no id
  input += "\n";  // 3: blank
  input += R"({"custom_id":"e","method":"POST","url":"/v1/embeddings",)"
           R"("body":{"model":"up/text-embedding-3-small","input":"x"}})"
           "\n";      // 4: url
  input += Lines(1);  // 5: dup
  input += R"({"id":1,"prompt":"a simple line"})"
           "\n";  // 6: simple
  const std::string file_id = UploadId(gw, input);
  const std::string batch_id = CreateBatch(gw, file_id);
  json::value done = WaitFor(gw, batch_id, {"completed", "failed", "cancelled"});
  ASSERT_EQ(Str(done.at("status")), "failed") << json::serialize(done);
  EXPECT_GT(Int(done.at("failed_at")), 0);
  std::map<int64_t, std::string> lines;
  for (const auto& e : done.at("errors").at("data").as_array()) {
    lines[Int(e.at("line"))] = Str(e.at("code"));
    EXPECT_FALSE(Str(e.at("message")).empty());
  }
  EXPECT_EQ(lines, (std::map<int64_t, std::string>{{2, "malformed_line"},
                                                   {4, "mismatched_url"},
                                                   {5, "duplicate_custom_id"},
                                                   {6, "malformed_line"}}))
      << json::serialize(done);
  json::value stats = ParseJson(Http("GET", sim.base_url + "/sim/stats", {}, {}, kTimeout).body);
  EXPECT_EQ(Int(stats.at("total")), 0) << "nothing was sent for a bad input";
}

TEST(BatchApi, CancelEndsCancelledWithThePartialOutput) {
  TempDir dir;
  Service sim = StartSim({"--latency-ms", "300"});
  Service gw = StartGateway(
      {"--config", dir.Write("c.yaml", Config(sim, "batch: {concurrency: 2, flush_every: 1}\n"))});
  const std::string batch_id = CreateBatch(gw, UploadId(gw, Lines(100)));
  WaitFor(gw, batch_id, {"in_progress"});
  std::this_thread::sleep_for(1500ms);
  HttpResult cancel =
      Http("POST", gw.base_url + "/v1/batches/" + batch_id + "/cancel", {}, {}, kTimeout);
  ASSERT_EQ(cancel.status, 200) << cancel.body;
  EXPECT_EQ(Str(ParseJson(cancel.body).at("status")), "cancelling");
  json::value done = WaitFor(gw, batch_id, {"cancelled", "completed", "failed"}, 20s);
  ASSERT_EQ(Str(done.at("status")), "cancelled") << json::serialize(done);
  const int64_t completed = Int(done.at("request_counts").at("completed"));
  EXPECT_GT(completed, 0);
  EXPECT_LT(completed, 100);
  auto ids = CountIds(Content(gw, Str(done.at("output_file_id"))));
  EXPECT_EQ(static_cast<int64_t>(ids.size()), completed);
  for (const auto& [id, n] : ids) EXPECT_EQ(n, 1) << id;
  // Cancelling again is harmless; a finished batch stays as it is.
  HttpResult again =
      Http("POST", gw.base_url + "/v1/batches/" + batch_id + "/cancel", {}, {}, kTimeout);
  EXPECT_EQ(again.status, 200) << again.body;
}

TEST(BatchApi, JobResumesAfterTheGatewayIsKilled) {
  TempDir dir;
  Service sim = StartSim({"--latency-ms", "200"});
  const std::string config =
      dir.Write("c.yaml", Config(sim, "batch: {concurrency: 4, flush_every: 1}\n"));
  const std::string data = (dir.path() / "data").string();
  constexpr int kLines = 80;  // about 4 s at 4 x 5 per second
  std::string batch_id;
  {
    Service gw = StartGateway({"--config", config}, {{"MODELMUX_DATA_DIR", data}});
    batch_id = CreateBatch(gw, UploadId(gw, Lines(kLines)));
    const auto until = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < until) {
      json::value b = GetBatch(gw, batch_id);
      if (b.is_object() && Int(b.at("request_counts").at("completed")) >= 8) break;
      std::this_thread::sleep_for(100ms);
    }
    json::value mid = GetBatch(gw, batch_id);
    ASSERT_EQ(Str(mid.at("status")), "in_progress") << json::serialize(mid);
    ASSERT_EQ(::kill(gw.process->pid(), SIGKILL), 0);
    gw.process->Wait(10s);
  }
  Service gw = StartGateway({"--config", config}, {{"MODELMUX_DATA_DIR", data}});
  json::value done = WaitFor(gw, batch_id, {"completed", "failed", "cancelled"}, 60s);
  ASSERT_EQ(Str(done.at("status")), "completed") << json::serialize(done);
  EXPECT_EQ(Int(done.at("request_counts").at("completed")), kLines);
  auto ids = CountIds(Content(gw, Str(done.at("output_file_id"))));
  EXPECT_EQ(ids.size(), static_cast<size_t>(kLines));
  for (int i = 0; i < kLines; ++i) EXPECT_EQ(ids["r" + std::to_string(i)], 1) << "r" << i;
  // Upstream calls: every line once, plus at most the 4 in flight at the kill.
  json::value stats = ParseJson(Http("GET", sim.base_url + "/sim/stats", {}, {}, kTimeout).body);
  EXPECT_LE(Int(stats.at("total")), kLines + 4);
}

TEST(BatchApi, KeysSeeOnlyTheirOwn) {
  TempDir dir;
  Service sim = StartSim();
  Service gw = StartGateway({"--config", dir.Write("c.yaml", Config(sim))},
                            {{"MODELMUX_MASTER_KEY", kMaster}});
  NewKey a = CreateKey(gw, kMaster, R"({"name":"a","models":["*"],"tasks":["text","batch"]})");
  NewKey b = CreateKey(gw, kMaster, R"({"name":"b","models":["*"],"tasks":["text","batch"]})");
  NewKey text_only = CreateKey(gw, kMaster, R"({"name":"c","models":["*"],"tasks":["text"]})");
  NewKey narrow =
      CreateKey(gw, kMaster, R"({"name":"d","models":["up/gpt-4o"],"tasks":["batch"]})");
  const std::string file_id = UploadId(gw, Lines(3), a.key);
  const std::string batch_id = CreateBatch(gw, file_id, a.key);
  json::value done = WaitFor(gw, batch_id, {"completed", "failed"}, 30s, a.key);
  ASSERT_EQ(Str(done.at("status")), "completed") << json::serialize(done);
  const std::string out_id = Str(done.at("output_file_id"));

  const std::string u = gw.base_url;
  for (const auto& [method, path] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/v1/files/" + file_id},
           {"GET", "/v1/files/" + file_id + "/content"},
           {"GET", "/v1/files/" + out_id + "/content"},
           {"DELETE", "/v1/files/" + file_id},
           {"GET", "/v1/batches/" + batch_id},
           {"POST", "/v1/batches/" + batch_id + "/cancel"}}) {
    HttpResult r = Http(method, u + path, {}, Bearer(b.key), kTimeout);
    EXPECT_EQ(r.status, 404) << method << " " << path << ": " << r.body;
  }
  EXPECT_TRUE(ParseJson(Http("GET", u + "/v1/files", {}, Bearer(b.key), kTimeout).body)
                  .at("data")
                  .as_array()
                  .empty());
  EXPECT_TRUE(ParseJson(Http("GET", u + "/v1/batches", {}, Bearer(b.key), kTimeout).body)
                  .at("data")
                  .as_array()
                  .empty());
  // B cannot start a batch on A's file either.
  HttpResult steal = Http("POST", u + "/v1/batches",
                          R"({"input_file_id":")" + file_id +
                              R"(","endpoint":"/v1/chat/completions","completion_window":"24h"})",
                          Bearer(b.key), kTimeout);
  EXPECT_EQ(steal.status, 404) << steal.body;
  // A sees its own; the master key sees everyone's.
  EXPECT_EQ(Http("GET", u + "/v1/files/" + file_id, {}, Bearer(a.key), kTimeout).status, 200);
  EXPECT_EQ(Http("GET", u + "/v1/batches/" + batch_id, {}, Bearer(kMaster), kTimeout).status, 200);
  // No `batch` task: 403; no key: 401.
  HttpResult denied = Http("GET", u + "/v1/files", {}, Bearer(text_only.key), kTimeout);
  EXPECT_EQ(denied.status, 403) << denied.body;
  EXPECT_EQ(ErrorCode(denied), "task_not_allowed");
  EXPECT_EQ(Http("GET", u + "/v1/batches", {}, {}, kTimeout).status, 401);
  // A key's model scope applies to every line.
  const std::string narrow_batch = CreateBatch(gw, UploadId(gw, Lines(2), narrow.key), narrow.key);
  json::value refused = WaitFor(gw, narrow_batch, {"completed", "failed"}, 30s, narrow.key);
  EXPECT_EQ(Str(refused.at("status")), "failed") << json::serialize(refused);
}

// A batch cannot escape its key's budget (issue 7): every line is admitted like a direct call of
// the key, spend is settled per line, and lines past the budget fail with budget_exceeded without
// reaching the provider. The spend is in the ledger under the key (usage-read shows it).
TEST(BatchApi, LinesAreHeldToTheKeysBudget) {
  TempDir dir;
  Service sim = StartSim();
  // Two lines in flight: reservations (max_tokens 200 at gpt-4o's price) leave room for both.
  Service gw =
      StartGateway({"--config", dir.Write("c.yaml", Config(sim, "batch: {concurrency: 2}\n"))},
                   {{"MODELMUX_MASTER_KEY", kMaster}});
  NewKey k = CreateKey(gw, kMaster,
                       R"({"name":"budgeted","models":["*"],"tasks":["text","batch","usage-read"],)"
                       R"("budgets":{"total":"0.01"}})");
  std::string lines;
  constexpr int kLines = 60;
  for (int i = 0; i < kLines; ++i) {
    lines += R"({"custom_id":"b)" + std::to_string(i) +
             R"(","method":"POST","url":"/v1/chat/completions","body":{"model":"up/gpt-4o",)"
             R"("max_tokens":200,"messages":[{"role":"user","content":"line )" +
             std::to_string(i) + "\"}]}}\n";
  }
  const std::string batch_id = CreateBatch(gw, UploadId(gw, lines, k.key), k.key);
  json::value done = WaitFor(gw, batch_id, {"completed", "failed"}, 60s, k.key);
  ASSERT_EQ(Str(done.at("status")), "completed") << json::serialize(done);
  const int64_t completed = Int(done.at("request_counts").at("completed"));
  const int64_t failed = Int(done.at("request_counts").at("failed"));
  std::cout << "[ batch budget ] " << completed << " completed, " << failed << " failed\n";
  EXPECT_EQ(completed + failed, kLines);
  EXPECT_GT(completed, 0);
  EXPECT_GT(failed, 0) << "60 gpt-4o lines must not fit in $0.01";
  // The failures name the budget; none reached the simulator.
  const std::string errors = Content(gw, Str(done.at("error_file_id")), k.key);
  EXPECT_NE(errors.find("budget_exceeded"), std::string::npos) << errors.substr(0, 400);
  HttpResult stats = Http("GET", sim.base_url + "/sim/stats", {}, {}, kTimeout);
  EXPECT_EQ(Int(ParseJson(stats.body).at("total")), completed) << stats.body;
  // Spend: the key's budget state and its ledger rows agree, within the limit.
  json::value shown = ParseJson(
      Http("GET", gw.base_url + "/admin/keys/" + k.id, {}, Bearer(kMaster), kTimeout).body);
  ASSERT_TRUE(shown.is_object());
  const std::string spent = Str(shown.at("budget_state").at(0).at("spent"));
  EXPECT_LE(std::stod(spent), 0.01) << json::serialize(shown);
  EXPECT_GT(std::stod(spent), 0.0);
  ASSERT_TRUE(Eventually(
      [&] {
        HttpResult u = Http("GET", gw.base_url + "/v1/usage?since=1d", {}, Bearer(k.key), kTimeout);
        json::value v = ParseJson(u.body);
        const json::value* total = v.is_object() ? v.as_object().if_contains("total") : nullptr;
        return total && total->is_object() && total->as_object().contains("requests") &&
               Int(total->at("requests")) == kLines;
      },
      10s))
      << Http("GET", gw.base_url + "/v1/usage?since=1d", {}, Bearer(k.key), kTimeout).body;
}

// A batch line gets its key's max_tokens cap and domain context, as the key's direct call would.
TEST(BatchApi, LinesGetTheKeysMaxTokensCapAndContext) {
  TempDir dir;
  Service sim = StartSim();
  Service gw = StartGateway({"--config", dir.Write("c.yaml", Config(sim))},
                            {{"MODELMUX_MASTER_KEY", kMaster}});
  const std::string glossary(600, 'g');
  NewKey capped = CreateKey(gw, kMaster,
                            R"({"models":["*"],"tasks":["text","batch"],"max_tokens":5,)"
                            R"("context":"Glossary: )" +
                                glossary + R"("})");
  NewKey plain = CreateKey(gw, kMaster, R"({"models":["*"],"tasks":["text","batch"]})");
  const std::string line =
      R"({"custom_id":"x","method":"POST","url":"/v1/chat/completions","body":{)"
      R"("model":"up/gpt-4o-mini","max_tokens":20,"messages":[{"role":"user","content":"hi"}]}})"
      "\n";
  // usage of the one response line of a batch run by `key`.
  auto usage_of = [&](const std::string& key) {
    const std::string id = CreateBatch(gw, UploadId(gw, line, key), key);
    json::value done = WaitFor(gw, id, {"completed", "failed"}, 30s, key);
    EXPECT_EQ(Int(done.at("request_counts").at("completed")), 1) << json::serialize(done);
    const std::string out = Content(gw, Str(done.at("output_file_id")), key);
    json::value v = ParseJson(out.substr(0, out.find('\n')));
    return v.at("response").at("body").at("usage");
  };
  json::value a = usage_of(capped.key);
  json::value b = usage_of(plain.key);
  EXPECT_EQ(Int(a.at("completion_tokens")), 5) << json::serialize(a);
  EXPECT_EQ(Int(b.at("completion_tokens")), 20) << json::serialize(b);
  EXPECT_GT(Int(a.at("prompt_tokens")), Int(b.at("prompt_tokens")) + 50)
      << "the key's context did not reach the upstream";
}

TEST(BatchApi, LinesTakeTheKeysRoutesOfAConditionalPipeline) {
  TempDir dir;
  Service sim = StartSim();
  Service gw =
      StartGateway({"--config", dir.Write("c.yaml", Config(sim,
                                                           "pipelines:\n"
                                                           "  - name: auto\n"
                                                           "    kind: conditional\n"
                                                           "    routes:\n"
                                                           "      - when: {key_tag: lab}\n"
                                                           "        model: up/echo-lab\n"
                                                           "      - when: {tier: premium}\n"
                                                           "        model: up/echo-premium\n"
                                                           "      - model: up/echo-basic\n"))},
                   {{"MODELMUX_MASTER_KEY", kMaster}});
  NewKey lab =
      CreateKey(gw, kMaster, R"({"models":["*"],"tasks":["text","batch"],"tags":["lab"]})");
  NewKey basic =
      CreateKey(gw, kMaster, R"({"models":["*"],"tasks":["text","batch"],"tags":["tier:basic"]})");
  const std::string line =
      R"({"custom_id":"x","method":"POST","url":"/v1/chat/completions","body":{)"
      R"("model":"auto","messages":[{"role":"user","content":"hi"}]}})"
      "\n";
  auto run = [&](const std::string& key) {
    const std::string id = CreateBatch(gw, UploadId(gw, line, key), key);
    json::value done = WaitFor(gw, id, {"completed", "failed"}, 30s, key);
    EXPECT_EQ(Int(done.at("request_counts").at("completed")), 1) << json::serialize(done);
  };
  run(lab.key);
  EXPECT_EQ(SimModelCalls(sim, "echo-lab"), 1);
  run(basic.key);
  EXPECT_EQ(SimModelCalls(sim, "echo-basic"), 1);
  EXPECT_EQ(SimModelCalls(sim, "echo-premium"), 0);
}

TEST(BatchApi, RetentionSweepRemovesExpiredJobsAndFiles) {
  TempDir dir;
  Service sim = StartSim();
  const std::string extra = "batch: {retention: 3s}\nserver: {limits: {files_body: 64KiB}}\n";
  Service gw = StartGateway({"--config", dir.Write("c.yaml", Config(sim, extra))});
  // An upload over limits.files_body: 413 in the OpenAI shape.
  HttpResult big = Upload(gw, Lines(1000));
  EXPECT_EQ(big.status, 413) << big.body;
  EXPECT_EQ(ErrorCode(big), "payload_too_large");
  const std::string file_id = UploadId(gw, Lines(2));
  const std::string batch_id = CreateBatch(gw, file_id);
  json::value done = WaitFor(gw, batch_id, {"completed", "failed"});
  ASSERT_EQ(Str(done.at("status")), "completed") << json::serialize(done);
  EXPECT_EQ(Int(done.at("expires_at")) - Int(done.at("created_at")), 3);
  const std::string out_id = Str(done.at("output_file_id"));
  const auto until = std::chrono::steady_clock::now() + 15s;
  int batch_status = 200, file_status = 200, out_status = 200;
  while (std::chrono::steady_clock::now() < until &&
         (batch_status != 404 || file_status != 404 || out_status != 404)) {
    std::this_thread::sleep_for(250ms);
    batch_status = Http("GET", gw.base_url + "/v1/batches/" + batch_id, {}, {}, kTimeout).status;
    file_status = Http("GET", gw.base_url + "/v1/files/" + file_id, {}, {}, kTimeout).status;
    out_status = Http("GET", gw.base_url + "/v1/files/" + out_id, {}, {}, kTimeout).status;
  }
  EXPECT_EQ(batch_status, 404);
  EXPECT_EQ(file_status, 404);
  EXPECT_EQ(out_status, 404);
  // And their bytes are gone from the data directory.
  EXPECT_TRUE(std::filesystem::is_empty(gw.data_dir / "batch" / "files"));
  EXPECT_TRUE(std::filesystem::is_empty(gw.data_dir / "batch" / "jobs"));
}

}  // namespace
}  // namespace modelmux::testing
