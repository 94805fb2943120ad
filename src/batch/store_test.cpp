#include "batch/store.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <filesystem>
#include <fstream>

#include "batch/objects.hpp"

namespace modelmux::batch {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

class BatchStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("mm-batchstore-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    auto s = BatchStore::Open(dir_.string());
    ASSERT_TRUE(s.ok()) << s.error().message;
    store_ = std::move(s).value();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  FileRecord File(const std::string& id, const std::string& owner, int64_t expires) {
    FileRecord f{id, owner, id + ".jsonl", "batch", 3, 100, expires, store_->UploadPath(id)};
    std::ofstream(f.path) << "{}\n";
    return f;
  }
  fs::path dir_;
  std::unique_ptr<BatchStore> store_;
};

TEST_F(BatchStoreTest, FilesAreListedNewestFirstPerOwnerWithPages) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(store_->PutFile(File("file-" + std::to_string(i), i % 2 ? "b" : "a", 1000)).ok());
  }
  auto a = store_->ListFiles({"a", "", 2, ""});
  ASSERT_TRUE(a.ok());
  ASSERT_EQ(a->rows.size(), 2u);
  EXPECT_EQ(a->rows[0].id, "file-4");
  EXPECT_EQ(a->rows[1].id, "file-2");
  EXPECT_TRUE(a->has_more);
  auto next = store_->ListFiles({"a", "file-2", 2, ""});
  ASSERT_TRUE(next.ok());
  ASSERT_EQ(next->rows.size(), 1u);
  EXPECT_EQ(next->rows[0].id, "file-0");
  EXPECT_FALSE(next->has_more);
  auto all = store_->ListFiles({"", "", 100, ""});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->rows.size(), 5u);
  auto got = store_->GetFile("file-3");
  ASSERT_TRUE(got.ok() && *got);
  EXPECT_EQ((*got)->owner, "b");
  EXPECT_EQ((*got)->expires_at, 1000);
}

TEST_F(BatchStoreTest, BatchUpdatesKeepTheirPlaceAndUnfinishedOnesAreFound) {
  BatchRecord b;
  b.id = "batch_1";
  b.owner = "k";
  b.endpoint = "/v1/chat/completions";
  b.input_file_id = "file-1";
  b.created_at = 10;
  ASSERT_TRUE(store_->PutBatch(b).ok());
  b.id = "batch_2";
  ASSERT_TRUE(store_->PutBatch(b).ok());
  b.id = "batch_1";
  b.status = "completed";
  b.completed = 7;
  b.output_file_id = "file-out";
  ASSERT_TRUE(store_->PutBatch(b).ok());  // an update, not a new row
  auto page = store_->ListBatches({"k", "", 10, ""});
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->rows.size(), 2u);
  EXPECT_EQ(page->rows[0].id, "batch_2");
  EXPECT_EQ(page->rows[1].status, "completed");
  EXPECT_EQ(page->rows[1].completed, 7u);
  EXPECT_EQ(page->rows[1].output_file_id, "file-out");
  auto open = store_->Unfinished();
  ASSERT_TRUE(open.ok());
  ASSERT_EQ(open->size(), 1u);
  EXPECT_EQ((*open)[0].id, "batch_2");
  EXPECT_TRUE(store_->ListBatches({"other", "", 10, ""})->rows.empty());
}

TEST_F(BatchStoreTest, SweepDeletesExpiredRowsAndBytesButNotRunningJobs) {
  const FileRecord old_file = File("file-old", "a", 50);
  ASSERT_TRUE(store_->PutFile(old_file).ok());
  ASSERT_TRUE(store_->PutFile(File("file-new", "a", 500)).ok());
  BatchRecord done;
  done.id = "batch_done";
  done.status = "completed";
  done.expires_at = 50;
  ASSERT_TRUE(store_->PutBatch(done).ok());
  auto job_dir = store_->JobDir(done.id);
  ASSERT_TRUE(job_dir.ok());
  BatchRecord running = done;
  running.id = "batch_running";
  running.status = "in_progress";
  ASSERT_TRUE(store_->PutBatch(running).ok());
  auto swept = store_->Sweep(100);
  ASSERT_TRUE(swept.ok());
  EXPECT_EQ(swept->files, 1u);
  EXPECT_EQ(swept->batches, 1u);
  EXPECT_FALSE(fs::exists(old_file.path));
  EXPECT_FALSE(fs::exists(*job_dir));
  EXPECT_FALSE(*store_->GetFile("file-old"));
  EXPECT_TRUE(*store_->GetFile("file-new"));
  EXPECT_TRUE(*store_->GetBatch("batch_running"));
  EXPECT_FALSE(*store_->GetBatch("batch_done"));
}

TEST_F(BatchStoreTest, ObjectsHaveOpenAiShapes) {
  BatchRecord b;
  b.id = "batch_x";
  b.endpoint = "/v1/embeddings";
  b.input_file_id = "file-in";
  b.status = "failed";
  b.created_at = 5;
  b.total = 3;
  b.failed = 1;
  b.metadata_json = R"({"k":"v"})";
  b.errors_json = ErrorsJson({{"malformed_line", "body must be an object", "body", 4}});
  json::value v = json::parse(BatchJson(b));
  EXPECT_EQ(v.at("object").as_string(), "batch");
  EXPECT_EQ(v.at("request_counts").at("total").to_number<int64_t>(), 3);
  EXPECT_EQ(v.at("request_counts").at("failed").to_number<int64_t>(), 1);
  EXPECT_TRUE(v.at("output_file_id").is_null());
  EXPECT_TRUE(v.at("in_progress_at").is_null());
  EXPECT_EQ(v.at("metadata").at("k").as_string(), "v");
  const auto& e = v.at("errors").at("data").at(0);
  EXPECT_EQ(e.at("line").to_number<int64_t>(), 4);
  EXPECT_EQ(e.at("code").as_string(), "malformed_line");
  EXPECT_EQ(e.at("param").as_string(), "body");
  EXPECT_TRUE(json::parse(BatchJson(BatchRecord{})).at("errors").is_null());

  Page<FileRecord> page;
  page.rows.push_back(File("file-a", "o", 9));
  page.has_more = true;
  json::value list = json::parse(FileListJson(page));
  EXPECT_EQ(list.at("object").as_string(), "list");
  EXPECT_EQ(list.at("first_id").as_string(), "file-a");
  EXPECT_EQ(list.at("data").at(0).at("object").as_string(), "file");
  EXPECT_EQ(list.at("data").at(0).at("bytes").to_number<int64_t>(), 3);
  EXPECT_TRUE(list.at("has_more").as_bool());
  EXPECT_EQ(json::parse(FileDeletedJson("file-a")).at("deleted").as_bool(), true);
}

TEST_F(BatchStoreTest, InputCheckNamesEveryBadLine) {
  const std::string path = (dir_ / "in.jsonl").string();
  std::ofstream(path)
      << R"({"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[{"role":"user","content":"x"}]}})"
      << "\n"
      << R"({"custom_id":"b","method":"POST","url":"/v1/chat/completions","body":{"model":"bad","messages":[{"role":"user","content":"x"}]}})"
      << "\n\n"
      << R"({"custom_id":"a","method":"POST","url":"/v1/chat/completions","body":{"model":"m","messages":[{"role":"user","content":"x"}]}})"
      << "\n"
      << R"({"id":1,"prompt":"p"})"
      << "\n";
  auto check = CheckApiInput(
      path, "/v1/chat/completions",
      [](const std::string& model) { return model == "bad" ? std::string("no such model") : ""; },
      1 << 20);
  ASSERT_TRUE(check.ok());
  EXPECT_FALSE(check->ok());
  EXPECT_EQ(check->requests, 1u);
  ASSERT_EQ(check->problems.size(), 3u);
  EXPECT_EQ(check->problems[0].line, 2u);
  EXPECT_EQ(check->problems[0].code, "model_not_found");
  EXPECT_EQ(check->problems[1].line, 4u);
  EXPECT_EQ(check->problems[1].code, "duplicate_custom_id");
  EXPECT_EQ(check->problems[2].line, 5u);
  EXPECT_EQ(check->problems[2].code, "malformed_line");
  auto wrong_endpoint = CheckApiInput(path, "/v1/embeddings", {}, 1 << 20);
  ASSERT_TRUE(wrong_endpoint.ok());
  EXPECT_EQ(wrong_endpoint->problems[0].code, "mismatched_url");
  std::ofstream(path, std::ios::trunc) << "\n\n";
  auto empty = CheckApiInput(path, "/v1/chat/completions", {}, 1 << 20);
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->ok());
  EXPECT_EQ(empty->problems[0].code, "empty_file");
}

}  // namespace
}  // namespace modelmux::batch
