#pragma once
// Seeded, platform-independent random numbers for data generation. std:: distributions
// differ between standard libraries, so generators use these to stay reproducible.
#include <cmath>
#include <cstdint>
#include <iterator>
#include <numbers>

namespace datalab {

// SplitMix64: tiny, fast, good enough statistically for fake data, and cheap to seed
// per batch so batches can be generated in parallel and still be reproducible.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  // An independent stream for (seed, stream) — e.g. one per batch.
  static Rng for_stream(uint64_t seed, uint64_t stream) {
    Rng mixer(seed ^ (0x9E3779B97F4A7C15ULL * (stream + 1)));
    return Rng(mixer.next());
  }
  uint64_t next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  // Uniform integer in [lo, hi] (inclusive).
  int64_t uniform(int64_t lo, int64_t hi) {
    const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
    return lo + static_cast<int64_t>(static_cast<unsigned __int128>(next()) * span >> 64);
  }
  // Uniform double in [0, 1).
  double unit() { return (next() >> 11) * 0x1.0p-53; }
  bool chance(double probability) { return unit() < probability; }
  // Standard normal (Box–Muller).
  double normal() {
    const double u1 = 1.0 - unit(), u2 = unit();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
  }
  template <typename Container>
  const auto& pick(const Container& items) {
    return items[static_cast<std::size_t>(uniform(0, static_cast<int64_t>(std::size(items)) - 1))];
  }

 private:
  uint64_t state_;
};

// A seeded bijection of [0, n): i -> (i * multiplier + offset) mod n, with the multiplier
// coprime to n. Lets generators hand out unique combinations (names, pairs) that still
// look random, without remembering what was used.
class Permutation {
 public:
  Permutation(uint64_t n, uint64_t seed);
  uint64_t operator()(uint64_t i) const {
    return static_cast<uint64_t>((static_cast<unsigned __int128>(i % n_) * multiplier_ + offset_) % n_);
  }
  uint64_t size() const { return n_; }

 private:
  uint64_t n_, multiplier_, offset_;
};

}  // namespace datalab
