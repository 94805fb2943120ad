// Runs a libFuzzer target without libFuzzer (g++ builds, ctest): every file of the seed corpus,
// then a fixed number of deterministic mutations of them (byte flips, truncations, splices,
// insertions of JSON-significant bytes). With clang, build the same target with -fsanitize=fuzzer
// for real coverage-guided fuzzing (cmake -DMODELMUX_LIBFUZZER=ON).
//
//   <target>_smoke CORPUS_DIR [ITERATIONS]

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

void Run(const std::string& s) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

std::string Mutate(const std::string& in, const std::vector<std::string>& corpus,
                   std::mt19937_64& rng) {
  static const char kBytes[] = "{}[]\",:\\\n\r 0-1e9.nulltruefalse\xff\xc3\xa9\xed\xa0\x80";
  std::string s = in;
  const int edits = 1 + static_cast<int>(rng() % 4);
  for (int e = 0; e < edits; ++e) {
    switch (rng() % 6) {
      case 0:  // flip a byte
        if (!s.empty()) s[rng() % s.size()] ^= static_cast<char>(1u << (rng() % 8));
        break;
      case 1:  // truncate
        if (!s.empty()) s.resize(rng() % s.size());
        break;
      case 2:  // insert a significant byte
        s.insert(s.begin() + static_cast<long>(s.empty() ? 0 : rng() % (s.size() + 1)),
                 kBytes[rng() % (sizeof(kBytes) - 1)]);
        break;
      case 3: {  // splice with another corpus entry
        const std::string& other = corpus[rng() % corpus.size()];
        if (!other.empty()) s += other.substr(rng() % other.size());
        break;
      }
      case 4:  // deep nesting
        s = std::string(rng() % 5000, '[') + s;
        break;
      default:  // duplicate a slice
        if (s.size() > 2) {
          size_t a = rng() % s.size(), n = rng() % (s.size() - a);
          s.insert(a, s.substr(a, n));
        }
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR [ITERATIONS]\n", argv[0]);
    return 2;
  }
  const long iterations = argc > 2 ? std::atol(argv[2]) : 20000;
  std::vector<std::string> corpus;
  for (const auto& entry : std::filesystem::directory_iterator(argv[1])) {
    std::ifstream f(entry.path(), std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    corpus.push_back(ss.str());
  }
  if (corpus.empty()) {
    std::fprintf(stderr, "empty corpus %s\n", argv[1]);
    return 2;
  }
  for (const auto& c : corpus) Run(c);
  std::mt19937_64 rng(20261128);
  for (long i = 0; i < iterations; ++i) Run(Mutate(corpus[rng() % corpus.size()], corpus, rng));
  std::printf("%zu seeds and %ld mutations ran without a crash\n", corpus.size(), iterations);
  return 0;
}
