#pragma once
// Elapsed wall time for reports and results files.
#include <chrono>

namespace datalab {

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace datalab
