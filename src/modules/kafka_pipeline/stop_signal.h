#pragma once
// SIGINT/SIGTERM ask the long-running produce and consume commands to stop after the
// current batch (delivered, stored and committed), instead of dying mid-way.
#include <atomic>

namespace datalab::kafka_pipeline {

// Installs the handlers (once) and returns the flag they set.
const std::atomic<bool>& stop_on_signals();

}  // namespace datalab::kafka_pipeline
