// Self-test of the integration harness's process handling, with /bin/sh as the child.

#include <gtest/gtest.h>

#include <signal.h>
#include <thread>

#include <cerrno>
#include <chrono>
#include <stdexcept>

#include "harness.hpp"

namespace modelmux::testing {
namespace {

TEST(ParseListeningLine, ParsesHostAndPort) {
  auto a = ParseListeningLine("listening on 127.0.0.1:43127");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->host, "127.0.0.1");
  EXPECT_EQ(a->port, 43127);
  EXPECT_EQ(BaseUrl(*a), "http://127.0.0.1:43127");
}

TEST(ParseListeningLine, ParsesBracketedV6AndTrimsCarriageReturn) {
  auto a = ParseListeningLine("listening on [::1]:8080\r");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(a->port, 8080);
  EXPECT_EQ(BaseUrl(*a), "http://[::1]:8080");
}

TEST(ParseListeningLine, RejectsOtherLines) {
  EXPECT_FALSE(ParseListeningLine("listening on 127.0.0.1").has_value());
  EXPECT_FALSE(ParseListeningLine("listening on 127.0.0.1:0").has_value());
  EXPECT_FALSE(ParseListeningLine("listening on 127.0.0.1:70000").has_value());
  EXPECT_FALSE(ParseListeningLine("listening on 127.0.0.1:80x").has_value());
  EXPECT_FALSE(ParseListeningLine("serving the simulator").has_value());
}

TEST(BaseUrl, ReplacesWildcardHostWithLoopback) {
  EXPECT_EQ(BaseUrl({"0.0.0.0", 9090}), "http://127.0.0.1:9090");
  EXPECT_EQ(BaseUrl({"::", 9090}), "http://[::1]:9090");
}

TEST(Process, WaitsForALineAndStops) {
  // "oops" goes out before the listening line: the test stops the child once it saw that line,
  // and a shell stopped before its next echo would never write it.
  auto p = Process::Start("/bin/sh", {"-c",
                                      "echo starting; echo oops >&2; "
                                      "echo 'listening on 127.0.0.1:4321'; exec sleep 30"});
  EXPECT_GT(p->pid(), 0);
  ListenAddress a = p->WaitForListening(10s);
  EXPECT_EQ(a.host, "127.0.0.1");
  EXPECT_EQ(a.port, 4321);
  EXPECT_TRUE(p->running());
  auto lines = p->stdout_lines();
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[0], "starting");
  auto begin = std::chrono::steady_clock::now();
  int code = p->Stop();
  EXPECT_EQ(code, 128 + SIGTERM);  // sleep dies of the SIGTERM
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 4s);
  EXPECT_FALSE(p->running());
  EXPECT_EQ(p->Stop(), code);  // idempotent
  // stderr is read by its own thread: give it a moment to drain the pipe after the exit.
  for (int i = 0; i < 200 && p->stderr_tail().empty(); ++i) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(p->stderr_tail(), "oops\n");
}

TEST(Process, FindsALineThatArrivedBeforeTheWait) {
  auto p = Process::Start("/bin/sh", {"-c", "echo first; echo second; exec sleep 30"});
  EXPECT_EQ(p->WaitForLine("sec", 10s), "second");
  EXPECT_EQ(p->WaitForLine("fir", 10s), "first");
}

TEST(Process, KillsAChildThatIgnoresSigterm) {
  ProcessOptions options;
  options.stop_timeout = 300ms;
  auto p = Process::Start("/bin/sh", {"-c", "trap '' TERM; echo ready; while :; do sleep 1; done"},
                          options);
  p->WaitForLine("ready", 10s);
  EXPECT_EQ(p->Stop(), 128 + SIGKILL);
}

TEST(Process, ReportsExitCodeOfAChildThatExits) {
  auto p = Process::Start("/bin/sh", {"-c", "echo bye; exit 3"});
  EXPECT_EQ(p->Wait(10s), 3);
  EXPECT_EQ(p->stdout_lines(), std::vector<std::string>{"bye"});
}

TEST(Process, FailsFastWhenTheChildExitsWithoutTheLine) {
  auto p = Process::Start("/bin/sh", {"-c", "echo 'fatal: no config' >&2; exit 1"});
  auto begin = std::chrono::steady_clock::now();
  try {
    p->WaitForListening(20s);
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("fatal: no config"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 10s);
}

TEST(Process, TimesOutWaitingForALine) {
  auto p = Process::Start("/bin/sh", {"-c", "echo other; exec sleep 30"});
  EXPECT_THROW(p->WaitForLine("listening on ", 200ms), std::runtime_error);
}

TEST(Process, StopDoesNotWaitForAGrandchildHoldingThePipes) {
  // The background sleep inherits stdout; stopping the shell must not wait for it to exit.
  auto p = Process::Start("/bin/sh", {"-c", "sleep 5 & echo ready; wait"});
  p->WaitForLine("ready", 10s);
  auto begin = std::chrono::steady_clock::now();
  p->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - begin, 3s);
}

TEST(Process, CleanEnvironmentKeepsOnlyPathHomeAndAdditions) {
  ::setenv("MODELMUX_SELFTEST_LEAK", "leaked", 1);
  ProcessOptions options;
  options.env = {{"OPENAI_API_KEY", "sk-selftest"}};
  auto p = Process::Start("/bin/sh",
                          {"-c",
                           "echo \"leak=${MODELMUX_SELFTEST_LEAK:-none}\"; "
                           "echo \"key=$OPENAI_API_KEY\"; echo \"path=${PATH:+set}\""},
                          options);
  ASSERT_EQ(p->Wait(10s), 0);
  EXPECT_EQ(p->stdout_lines(),
            (std::vector<std::string>{"leak=none", "key=sk-selftest", "path=set"}));

  options.clean_env = false;
  auto q =
      Process::Start("/bin/sh", {"-c", "echo \"leak=${MODELMUX_SELFTEST_LEAK:-none}\""}, options);
  ASSERT_EQ(q->Wait(10s), 0);
  EXPECT_EQ(q->stdout_lines(), std::vector<std::string>{"leak=leaked"});
  ::unsetenv("MODELMUX_SELFTEST_LEAK");
}

TEST(Process, ThrowsWhenTheProgramCannotBeExecuted) {
  EXPECT_THROW(Process::Start("/nonexistent/modelmux", {}), std::runtime_error);
}

TEST(Process, DestructorStopsTheChild) {
  pid_t pid;
  {
    auto p = Process::Start("/bin/sh", {"-c", "echo ready; exec sleep 30"});
    p->WaitForLine("ready", 10s);
    pid = p->pid();
  }
  // Reaped by the destructor: the pid no longer exists.
  errno = 0;
  EXPECT_EQ(::kill(pid, 0), -1);
  EXPECT_EQ(errno, ESRCH);
}

}  // namespace
}  // namespace modelmux::testing
