#pragma once
// SIGINT/SIGTERM ask a long-running command (kafka produce and consume, cdc run) to stop
// after the batch in hand (delivered, stored and committed), instead of dying mid-way.
#include <atomic>

namespace datalab {

// Installs the handlers (once) and returns the flag they set.
const std::atomic<bool>& stop_on_signals();

}  // namespace datalab
