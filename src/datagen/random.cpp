#include "datagen/random.h"

#include <numeric>

namespace datalab {

Permutation::Permutation(uint64_t n, uint64_t seed) : n_(n == 0 ? 1 : n) {
  Rng rng(seed);
  offset_ = rng.next() % n_;
  // Start near the golden ratio of n (spreads neighbours far apart) and walk to a coprime.
  multiplier_ = static_cast<uint64_t>(n_ * 0.6180339887) + rng.next() % 97 + 1;
  while (std::gcd(multiplier_, n_) != 1) ++multiplier_;
  multiplier_ %= n_;
  if (multiplier_ == 0) multiplier_ = 1;
}

}  // namespace datalab
