#include "server/telegram_client.h"

#include <chrono>
#include <memory>
#include <thread>

#include <curl/curl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace datalab {

namespace {

size_t append_body(char* data, size_t size, size_t count, void* out) {
  static_cast<std::string*>(out)->append(data, size * count);
  return size * count;
}

// Removes every occurrence of the token from a text (curl errors may quote the URL).
std::string redact(std::string text, const std::string& token) {
  return mask_secrets(std::move(text), {token});
}

}  // namespace

TelegramSettings TelegramSettings::from(const Config& config) {
  TelegramSettings settings;
  settings.api_url = config.value("TG_API_URL");
  while (!settings.api_url.empty() && settings.api_url.back() == '/') settings.api_url.pop_back();
  settings.token = config.value("TG_TOKEN");
  settings.chat_id = config.value("TG_CHAT_ID");
  settings.attempts = std::max(1, static_cast<int>(config.get_int("TG_ATTEMPTS")));
  settings.first_backoff_seconds = std::stod(config.value("TG_BACKOFF_SECONDS"));
  return settings;
}

SendResult TelegramClient::send_message(const std::string& text) const {
  SendResult result;
  if (!settings_.configured()) {
    result.error = "TG_TOKEN and TG_CHAT_ID must be set to send notifications";
    return result;
  }
  const std::string url = fmt::format("{}/bot{}/sendMessage", settings_.api_url, settings_.token);
  const std::string body = nlohmann::json{{"chat_id", settings_.chat_id}, {"text", text}}.dump();
  double backoff = settings_.first_backoff_seconds;
  for (int attempt = 1; attempt <= settings_.attempts; ++attempt) {
    result.attempts = attempt;
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), &curl_easy_cleanup);
    if (!curl) {
      result.error = "cannot start an HTTP client";
      return result;
    }
    std::string response;
    curl_slist* headers = curl_slist_append(nullptr, "Content-Type: application/json");
    curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDS, body.c_str());
    curl_easy_setopt(curl.get(), CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
    curl_easy_setopt(curl.get(), CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, append_body);
    curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &response);
    curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, static_cast<long>(settings_.timeout_seconds * 1000));
    curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
    const CURLcode code = curl_easy_perform(curl.get());
    curl_slist_free_all(headers);
    bool retry = true;
    if (code != CURLE_OK) {
      result.error = redact(fmt::format("Telegram API unreachable: {}", curl_easy_strerror(code)), settings_.token);
    } else {
      curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &result.http_status);
      if (result.http_status >= 200 && result.http_status < 300) {
        result.ok = true;
        result.error.clear();
        return result;
      }
      std::string description;
      try {
        description = nlohmann::json::parse(response).value("description", "");
      } catch (...) {
      }
      result.error = redact(fmt::format("Telegram API answered HTTP {}{}", result.http_status,
                                        description.empty() ? "" : ": " + description),
                            settings_.token);
      retry = result.http_status == 429 || result.http_status >= 500;
    }
    spdlog::warn("notification: attempt {}/{} failed: {}", attempt, settings_.attempts, result.error);
    if (!retry || attempt == settings_.attempts) break;
    std::this_thread::sleep_for(std::chrono::duration<double>(backoff));
    backoff *= 2;
  }
  return result;
}

}  // namespace datalab
