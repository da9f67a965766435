#include "app/logging.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <mutex>

namespace tastesync {
namespace {

// One JSON object a line, the message escaped, for log shippers.
class JsonStderrSink : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const auto time =
        std::chrono::duration_cast<std::chrono::milliseconds>(msg.time.time_since_epoch()).count();
    std::string line = R"({"time":")" + format_time(time) + R"(","level":")";
    line += spdlog::level::to_string_view(msg.level).data();
    line += R"(","msg":")";
    for (const char c : std::string_view(msg.payload.data(), msg.payload.size())) {
      switch (c) {
        case '"':
          line += "\\\"";
          break;
        case '\\':
          line += "\\\\";
          break;
        case '\n':
          line += "\\n";
          break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char escaped[8];
            std::snprintf(escaped, sizeof(escaped), "\\u%04x", c);
            line += escaped;
          } else {
            line += c;
          }
      }
    }
    line += "\"}\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }

 private:
  static std::string format_time(std::int64_t ms) {
    const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[32];
    std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%S", &utc);
    char out[40];
    std::snprintf(out, sizeof(out), "%s.%03dZ", text, static_cast<int>(ms % 1000));
    return out;
  }
};

// Masks the secrets in a message before the sink that writes it (and before the JSON sink
// escapes it, so an escaped quote cannot hide a secret from the redactor).
class RedactingSink : public spdlog::sinks::sink {
 public:
  RedactingSink(std::shared_ptr<spdlog::sinks::sink> inner, Redactor redactor)
      : inner_(std::move(inner)), redactor_(std::move(redactor)) {}

  void log(const spdlog::details::log_msg& msg) override {
    const std::string text =
        redactor_.redact(std::string_view(msg.payload.data(), msg.payload.size()));
    spdlog::details::log_msg redacted = msg;
    redacted.payload = spdlog::string_view_t(text.data(), text.size());
    inner_->log(redacted);
  }
  void flush() override { inner_->flush(); }
  void set_pattern(const std::string& pattern) override { inner_->set_pattern(pattern); }
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override {
    inner_->set_formatter(std::move(formatter));
  }

 private:
  std::shared_ptr<spdlog::sinks::sink> inner_;
  Redactor redactor_;
};

constexpr std::string_view kLoggerName = "tastesync";

}  // namespace

bool logging_is_set_up() {
  return spdlog::default_logger()->name() == kLoggerName;
}

void setup_logging(const LogConfig& config, Redactor redactor) {
  std::shared_ptr<spdlog::sinks::sink> sink;
  if (config.json) {
    sink = std::make_shared<JsonStderrSink>();
  } else {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    sink->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  }
  auto logger = std::make_shared<spdlog::logger>(
      std::string(kLoggerName),
      std::make_shared<RedactingSink>(std::move(sink), std::move(redactor)));
  const auto level = spdlog::level::from_str(config.level);
  if (level == spdlog::level::off && config.level != "off") {
    throw ConfigError("log.level: '" + config.level + "' is not a level");
  }
  logger->set_level(level);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace tastesync
