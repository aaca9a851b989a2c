#pragma once
// Sends messages through the Telegram Bot API (sendMessage) with libcurl, retrying with
// exponential backoff on network errors, 429 and 5xx. The base address is configurable
// (TG_API_URL, default https://api.telegram.org) so tests point it at a local receiver.
// The bot token is part of the request URL only: it never appears in logs or errors.
#include <string>

#include "core/config.h"

namespace datalab {

// Read from the settings (TG_*); their defaults live only in core/config.cpp.
struct TelegramSettings {
  std::string api_url;  // TG_API_URL
  std::string token;    // TG_TOKEN (secret)
  std::string chat_id;  // TG_CHAT_ID
  int attempts = 1;     // TG_ATTEMPTS
  double first_backoff_seconds = 0;  // TG_BACKOFF_SECONDS
  double timeout_seconds = 10;

  static TelegramSettings from(const Config& config);
  bool configured() const { return !token.empty() && !chat_id.empty(); }
};

struct SendResult {
  bool ok = false;
  int attempts = 0;
  long http_status = 0;
  std::string error;  // the last failure, token-free
};

class TelegramClient {
 public:
  explicit TelegramClient(TelegramSettings settings) : settings_(std::move(settings)) {}
  SendResult send_message(const std::string& text) const;

 private:
  TelegramSettings settings_;
};

}  // namespace datalab
