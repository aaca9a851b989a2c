#pragma once
// A progress bar on stderr for long work: redrawn in place on a terminal, a line per
// quarter elsewhere (logs stay readable).
#include <chrono>
#include <cstdint>
#include <string>

namespace datalab {

class ProgressBar {
 public:
  // `total` 0: unknown, shown as the count so far (on a terminal only).
  ProgressBar(std::string label, std::uint64_t total, std::string unit = "rows");
  ~ProgressBar();
  void advance(std::uint64_t amount);
  void finish();

 private:
  void draw(bool final);
  std::string label_, unit_;
  std::uint64_t total_, done_ = 0;
  bool tty_, finished_ = false;
  int last_quarter_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

// Human numbers: 1234567 -> "1,234,567"; rates with one decimal and k/M suffix; sizes in
// binary units ("12.3 MiB").
std::string with_thousands(std::uint64_t n);
std::string human_rate(double per_second);
std::string human_bytes(std::uint64_t bytes);

}  // namespace datalab
