// Sends one chat call, prints the reply, then streams a second one chunk by chunk.
//
//   chat [MODEL]     (default: sim/echo, answered by the built-in simulator without any key)
//
// Exits 1 when a call fails, printing the error.

#include <modelmux/client.hpp>

#include <iostream>
#include <string>

int main(int argc, char** argv) {
  const std::string model = argc > 1 ? argv[1] : "sim/echo";

  // Configuration as the gateway finds it: $MODELMUX_CONFIG, provider keys in the environment,
  // or the built-in simulator when there are none.
  auto created = modelmux::Client::Create();
  if (!created) {
    std::cerr << "modelmux: " << created.error().ToString() << "\n";
    return 1;
  }
  modelmux::Client& client = *created.value();
  if (client.using_simulator()) std::cerr << "(no provider key found: using the simulator)\n";

  modelmux::ChatOptions request;
  request.model = model;
  request.messages = {modelmux::Message::System("You are brief."),
                      modelmux::Message::User("Say hello to modelmux.")};
  request.max_tokens = 64;

  auto reply = client.chat(request);
  if (!reply) {
    std::cerr << "chat failed: " << reply.error().ToString() << "\n";
    return 1;
  }
  std::cout << "reply: " << reply->text << "\n";
  if (reply->usage) {
    std::cout << "usage: " << reply->usage->prompt_tokens << " prompt + "
              << reply->usage->completion_tokens << " completion tokens\n";
  }

  request.messages.back().content = "Now stream a few words.";
  std::cout << "stream: " << std::flush;
  auto streamed = client.stream(request, [](const modelmux::StreamChunk& chunk) {
    std::cout << chunk.text << std::flush;
    return true;  // false would stop the stream
  });
  std::cout << "\n";
  if (!streamed) {
    std::cerr << "stream failed: " << streamed.error().ToString() << "\n";
    return 1;
  }
  std::cout << "finish_reason: " << streamed->finish_reason << "\n";
  return 0;
}
