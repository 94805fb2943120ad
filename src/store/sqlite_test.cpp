#include "store/sqlite.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>

namespace modelmux::store::sqlite {
namespace {

namespace fs = std::filesystem;

class SqliteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("mm-sqlite-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const char* name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

constexpr std::array<std::string_view, 2> kMigrations = {
    "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT NOT NULL, n INTEGER);",
    "ALTER TABLE t ADD COLUMN blob BLOB;",
};

TEST_F(SqliteTest, MigratesStepByStepAndIsIdempotent) {
  auto db = Open(Path("a.db"));
  ASSERT_TRUE(db.ok()) << db.error().message;
  ASSERT_TRUE(Migrate(db->get(), std::span(kMigrations).first(1)).ok());
  EXPECT_EQ(*SchemaVersion(db->get()), 1);
  ASSERT_TRUE(Migrate(db->get(), kMigrations).ok());
  EXPECT_EQ(*SchemaVersion(db->get()), 2);
  // Running again changes nothing (the ALTER would fail if it ran twice).
  ASSERT_TRUE(Migrate(db->get(), kMigrations).ok());
  EXPECT_EQ(*SchemaVersion(db->get()), 2);
}

TEST_F(SqliteTest, RefusesASchemaFromANewerVersion) {
  auto db = Open(Path("b.db"));
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(Migrate(db->get(), kMigrations).ok());
  auto st = Migrate(db->get(), std::span(kMigrations).first(1));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("newer"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("b.db"), std::string::npos) << st.error().message;
}

TEST_F(SqliteTest, BindsAndReadsEveryType) {
  auto db = Open(Path("c.db"));
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(Migrate(db->get(), kMigrations).ok());
  auto ins = Query::Prepare(db->get(), "INSERT INTO t(id, name, n, blob) VALUES(?, ?, ?, ?)");
  ASSERT_TRUE(ins.ok()) << ins.error().message;
  const std::string bytes("a\0b", 3);
  ins->Bind(1, int64_t{7}).Bind(2, "seven").Bind(3, std::optional<int64_t>{}).BindBlob(4, bytes);
  ASSERT_TRUE(ins->Run().ok());
  ins->Reset();
  ins->Bind(1, 8).Bind(2, std::string_view("eight")).Bind(3, std::optional<int64_t>{-3});
  ins->BindNull(4);
  ASSERT_TRUE(ins->Run().ok());

  auto sel = Query::Prepare(db->get(), "SELECT id, name, n, blob FROM t ORDER BY id");
  ASSERT_TRUE(sel.ok());
  ASSERT_TRUE(*sel->Step());
  EXPECT_EQ(sel->Int(0), 7);
  EXPECT_EQ(sel->Text(1), "seven");
  EXPECT_TRUE(sel->IsNull(2));
  EXPECT_EQ(sel->OptionalInt(2), std::nullopt);
  EXPECT_EQ(sel->Blob(3), bytes);
  ASSERT_TRUE(*sel->Step());
  EXPECT_EQ(sel->Int(0), 8);
  EXPECT_EQ(sel->OptionalInt(2), -3);
  EXPECT_FALSE(*sel->Step());
}

TEST_F(SqliteTest, TransactionRollsBackUnlessCommitted) {
  auto db = Open(Path("d.db"), {.synchronous = Synchronous::kFull});
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(Migrate(db->get(), kMigrations).ok());
  {
    auto tx = Transaction::Begin(db->get());
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(Exec(db->get(), "INSERT INTO t(id, name) VALUES(1, 'dropped')").ok());
  }  // destroyed without Commit
  {
    auto tx = Transaction::Begin(db->get());
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(Exec(db->get(), "INSERT INTO t(id, name) VALUES(2, 'kept')").ok());
    ASSERT_TRUE(tx->Commit().ok());
  }
  auto sel = Query::Prepare(db->get(), "SELECT group_concat(name) FROM t");
  ASSERT_TRUE(sel.ok());
  ASSERT_TRUE(*sel->Step());
  EXPECT_EQ(sel->Text(0), "kept");
}

TEST_F(SqliteTest, ErrorsNameTheFileAndTheStatement) {
  { std::ofstream(Path("junk.db")) << std::string(4096, 'x'); }
  auto junk = Open(Path("junk.db"));
  ASSERT_FALSE(junk.ok());
  EXPECT_NE(junk.error().message.find("junk.db"), std::string::npos) << junk.error().message;

  auto db = Open(Path("e.db"));
  ASSERT_TRUE(db.ok());
  auto bad = Query::Prepare(db->get(), "SELECT * FROM missing_table");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("missing_table"), std::string::npos) << bad.error().message;
  EXPECT_EQ(bad.error().code, "database_error");

  ASSERT_TRUE(Exec(db->get(), "CREATE TABLE u(id INTEGER PRIMARY KEY)").ok());
  ASSERT_TRUE(Exec(db->get(), "INSERT INTO u VALUES(1)").ok());
  auto dup = Exec(db->get(), "INSERT INTO u VALUES(1)");
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message.find("UNIQUE"), std::string::npos) << dup.error().message;
}

TEST_F(SqliteTest, ReadOnlyConnectionCannotWrite) {
  {
    auto db = Open(Path("f.db"));
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE(Migrate(db->get(), kMigrations).ok());
  }
  auto ro = Open(Path("f.db"), {.read_only = true});
  ASSERT_TRUE(ro.ok()) << ro.error().message;
  EXPECT_FALSE(Exec(ro->get(), "INSERT INTO t(id, name) VALUES(1, 'x')").ok());
  EXPECT_FALSE(Open(Path("absent.db"), {.read_only = true}).ok());
}

}  // namespace
}  // namespace modelmux::store::sqlite
