#pragma once
// Test-only helpers for the OpenAI dialect tests (included by *_test.cpp only).

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "core/chat.hpp"

namespace modelmux::dialects::openai::testing {

inline std::string ReadTestdata(const std::string& name) {
  std::ifstream f(std::string(MODELMUX_TESTDATA_DIR) + "/openai/testdata/" + name,
                  std::ios::binary);
  EXPECT_TRUE(f.good()) << name;
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline void ExpectSameMessage(const Message& a, const Message& b) {
  EXPECT_EQ(a.role, b.role);
  EXPECT_EQ(a.content_is_string, b.content_is_string);
  ASSERT_EQ(a.content.size(), b.content.size());
  for (size_t i = 0; i < a.content.size(); ++i) {
    EXPECT_EQ(a.content[i].type, b.content[i].type);
    EXPECT_EQ(a.content[i].text, b.content[i].text);
    EXPECT_EQ(a.content[i].url, b.content[i].url);
    EXPECT_EQ(a.content[i].detail, b.content[i].detail);
    EXPECT_EQ(a.content[i].mime_type, b.content[i].mime_type);
  }
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.tool_call_id, b.tool_call_id);
  ASSERT_EQ(a.tool_calls.size(), b.tool_calls.size());
  for (size_t i = 0; i < a.tool_calls.size(); ++i) {
    EXPECT_EQ(a.tool_calls[i].id, b.tool_calls[i].id);
    EXPECT_EQ(a.tool_calls[i].name, b.tool_calls[i].name);
    EXPECT_EQ(a.tool_calls[i].arguments, b.tool_calls[i].arguments);
  }
}

inline void ExpectSameRequest(const ChatRequest& a, const ChatRequest& b) {
  EXPECT_EQ(a.model, b.model);
  ASSERT_EQ(a.messages.size(), b.messages.size());
  for (size_t i = 0; i < a.messages.size(); ++i) ExpectSameMessage(a.messages[i], b.messages[i]);
  EXPECT_EQ(a.max_tokens, b.max_tokens);
  EXPECT_EQ(a.max_completion_tokens_field, b.max_completion_tokens_field);
  EXPECT_EQ(a.temperature, b.temperature);
  EXPECT_EQ(a.top_p, b.top_p);
  EXPECT_EQ(a.n, b.n);
  EXPECT_EQ(a.seed, b.seed);
  EXPECT_EQ(a.stop, b.stop);
  EXPECT_EQ(a.stream, b.stream);
  EXPECT_EQ(a.include_usage, b.include_usage);
  EXPECT_EQ(a.tools, b.tools);
  EXPECT_EQ(a.tool_choice, b.tool_choice);
  EXPECT_EQ(a.response_format, b.response_format);
  EXPECT_EQ(a.reasoning_effort, b.reasoning_effort);
  EXPECT_EQ(a.user, b.user);
  EXPECT_EQ(a.extra, b.extra);
}

}  // namespace modelmux::dialects::openai::testing
