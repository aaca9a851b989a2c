#include "core/progress.h"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

namespace datalab {

std::string with_thousands(std::uint64_t n) {
  std::string digits = std::to_string(n), out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string human_rate(double per_second) {
  if (per_second >= 1e6) return fmt::format("{:.1f}M", per_second / 1e6);
  if (per_second >= 1e3) return fmt::format("{:.1f}k", per_second / 1e3);
  return fmt::format("{:.0f}", per_second);
}

std::string human_bytes(std::uint64_t bytes) {
  if (bytes >= (1ull << 30)) return fmt::format("{:.2f} GiB", bytes / double(1ull << 30));
  if (bytes >= (1ull << 20)) return fmt::format("{:.1f} MiB", bytes / double(1ull << 20));
  if (bytes >= (1ull << 10)) return fmt::format("{:.1f} KiB", bytes / double(1ull << 10));
  return fmt::format("{} B", bytes);
}

ProgressBar::ProgressBar(std::string label, std::uint64_t total, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total),
      tty_(isatty(STDERR_FILENO) == 1), start_(std::chrono::steady_clock::now()), last_draw_(start_) {}

ProgressBar::~ProgressBar() {
  if (!finished_ && done_ > 0) finish();
}

void ProgressBar::advance(std::uint64_t amount) {
  done_ += amount;
  const auto now = std::chrono::steady_clock::now();
  if (tty_ && now - last_draw_ > std::chrono::milliseconds(100)) {
    last_draw_ = now;
    draw(false);
  } else if (!tty_ && total_ > 0) {
    const int quarter = static_cast<int>(4 * done_ / total_);
    if (quarter > last_quarter_ && quarter < 4) {
      last_quarter_ = quarter;
      draw(false);
    }
  }
}

void ProgressBar::finish() {
  if (finished_) return;
  finished_ = true;
  draw(true);
}

void ProgressBar::draw(bool final) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = seconds > 0 ? done_ / seconds : 0;
  std::string text;
  if (total_ == 0) {  // the total is unknown: what is done so far and the rate
    text = fmt::format("{:<10} {} {} {:.1f}s {} {}/s", label_, with_thousands(done_), unit_, seconds,
                       human_rate(rate), unit_);
  } else {
    const double fraction = std::min(1.0, double(done_) / total_);
    const int filled = static_cast<int>(fraction * 30);
    const std::string bar = std::string(filled, '#') + std::string(30 - filled, ' ');
    text = fmt::format("{:<10} [{}] {:3.0f}% {}/{} {} {:.1f}s {} {}/s", label_, bar, fraction * 100,
                       with_thousands(done_), with_thousands(total_), unit_, seconds, human_rate(rate), unit_);
  }
  if (tty_) {
    std::fprintf(stderr, "\r%s%s", text.c_str(), final ? "\n" : "");
  } else {
    std::fprintf(stderr, "%s\n", text.c_str());
  }
  std::fflush(stderr);
}

}  // namespace datalab
