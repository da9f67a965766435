#include "app/dev/dev_broker_services.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <utility>
#include <vector>

#include "kafka/kafka.hpp"
#include "kafka/topic_admin.hpp"

namespace tastesync {
namespace {

// Anyone who can reach the dev broker can write to its admin topic: a bound on what it makes.
constexpr int kMaxRequestedTopics = 1000;
// A control line is a few words; anything longer is not one.
constexpr std::size_t kMaxControlLine = 256;
constexpr int kMaxRttMs = 60000;
constexpr int kMaxInjectedErrors = 1000;

// The requests whose answers `fail` can replace, by their Kafka protocol names.
constexpr std::pair<std::string_view, std::int16_t> kRequests[] = {
    {"Produce", 0},          {"Fetch", 1},           {"ListOffsets", 2},
    {"Metadata", 3},         {"OffsetCommit", 8},    {"OffsetFetch", 9},
    {"FindCoordinator", 10}, {"JoinGroup", 11},      {"Heartbeat", 12},
    {"SyncGroup", 14},       {"InitProducerId", 22}, {"AddPartitionsToTxn", 24},
    {"AddOffsetsToTxn", 25}, {"EndTxn", 26},         {"TxnOffsetCommit", 28},
};

std::optional<std::int16_t> request_key(std::string_view name) {
  for (const auto& [request, key] : kRequests) {
    if (request == name) return key;
  }
  return std::nullopt;
}

// A broker error (librdkafka's own, negative ones never travel on the wire) by its name, with or
// without RD_KAFKA_RESP_ERR_.
std::optional<rd_kafka_resp_err_t> broker_error(std::string_view name) {
  constexpr std::string_view kPrefix = "RD_KAFKA_RESP_ERR_";
  if (name.substr(0, kPrefix.size()) == kPrefix) name.remove_prefix(kPrefix.size());
  const rd_kafka_err_desc* descriptions = nullptr;
  std::size_t count = 0;
  rd_kafka_get_err_descs(&descriptions, &count);
  for (std::size_t i = 0; i < count; ++i) {
    if (descriptions[i].code > 0 && descriptions[i].name != nullptr &&
        name == descriptions[i].name) {
      return descriptions[i].code;
    }
  }
  return std::nullopt;
}

std::optional<int> parse_int(std::string_view text) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> result;
  while (!line.empty()) {
    const std::size_t start = line.find_first_not_of(" \t\r");
    if (start == std::string_view::npos) break;
    line.remove_prefix(start);
    const std::size_t end = line.find_first_of(" \t\r");
    result.push_back(line.substr(0, end));
    line.remove_prefix(end == std::string_view::npos ? line.size() : end);
  }
  return result;
}

}  // namespace

TopicRequestServer::TopicRequestServer(MockCluster& cluster)
    : cluster_(cluster), thread_([this](const std::stop_token& stop) { serve(stop); }) {}

void TopicRequestServer::serve(const std::stop_token& stop) {
  try {
    const KafkaHandle consumer = make_kafka_handle(
        RD_KAFKA_CONSUMER, make_kafka_conf({{"bootstrap.servers", cluster_.bootstrap_servers()},
                                            {"group.id", "tastesync-dev-broker"},
                                            {"enable.auto.commit", "false"},
                                            {"fetch.wait.max.ms", "50"},
                                            {"log_level", "3"}},
                                           "dev broker topic requests"));
    const TopicPartitionList partitions(rd_kafka_topic_partition_list_new(1));
    const std::string topic(kDevBrokerAdminTopic);
    rd_kafka_topic_partition_list_add(partitions.get(), topic.c_str(), 0)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
    rd_kafka_assign(consumer.get(), partitions.get());
    int created = 0;
    while (!stop.stop_requested()) {
      const KafkaMessage message(rd_kafka_consumer_poll(consumer.get(), 200));
      if (!message || message->err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
      const std::string_view line(static_cast<const char*>(message->payload),
                                  message->payload != nullptr ? message->len : 0);
      const auto request = parse_create_command(line);
      if (!request) {
        spdlog::warn("dev broker: ignored a record on {} that is not a topic request",
                     kDevBrokerAdminTopic);
        continue;
      }
      if (created >= kMaxRequestedTopics) {
        spdlog::warn("dev broker: {} topics created on request already; ignoring {}",
                     kMaxRequestedTopics, request->first);
        continue;
      }
      try {
        cluster_.create_topic(request->first, request->second);
        ++created;
        spdlog::info("dev broker: created topic {} ({} partitions) on request", request->first,
                     request->second);
      } catch (const std::exception& e) {
        spdlog::warn("dev broker: {}", e.what());  // it exists (already created, or named first)
      }
    }
    rd_kafka_consumer_close(consumer.get());
  } catch (const std::exception& e) {
    spdlog::error("dev broker: topic requests stopped: {}", e.what());
  }
}

ParsedControl parse_control_line(std::string_view line, int broker_count) {
  const std::vector<std::string_view> w = words(line);
  if (w.empty()) return {std::nullopt, "an empty line"};
  ControlCommand command;
  if (w[0] == "fail") {
    if (w.size() != 3 && w.size() != 4)
      return {std::nullopt, "expected: fail REQUEST ERROR [COUNT]"};
    command.kind = ControlCommand::Kind::fail;
    const auto key = request_key(w[1]);
    if (!key) {
      std::string names;
      for (const auto& [request, _] : kRequests)
        names.append(names.empty() ? "" : ", ").append(request);
      return {std::nullopt, "no request " + std::string(w[1]) + " (one of " + names + ")"};
    }
    command.api_key = *key;
    const auto error = broker_error(w[2]);
    if (!error) return {std::nullopt, "no Kafka error " + std::string(w[2])};
    command.error = *error;
    if (w.size() == 4) {
      const auto count = parse_int(w[3]);
      if (!count || *count < 1 || *count > kMaxInjectedErrors) {
        return {std::nullopt, "count must be 1 to " + std::to_string(kMaxInjectedErrors)};
      }
      command.count = *count;
    }
    return {command, ""};
  }
  std::size_t expected = 2;
  if (w[0] == "down") {
    command.kind = ControlCommand::Kind::down;
  } else if (w[0] == "up") {
    command.kind = ControlCommand::Kind::up;
  } else if (w[0] == "rtt") {
    command.kind = ControlCommand::Kind::rtt;
    expected = 3;
  } else {
    return {std::nullopt,
            "unknown command (down N, up N, rtt N MS, N a broker id or all; fail REQUEST ERROR "
            "[COUNT])"};
  }
  if (w.size() != expected) {
    return {std::nullopt, expected == 2 ? "expected: down|up N" : "expected: rtt N MS"};
  }
  if (w[1] != "all") {
    const auto broker = parse_int(w[1]);
    if (!broker || *broker < 1 || *broker > broker_count) {
      return {std::nullopt, "no broker " + std::string(w[1]) + " (brokers are 1 to " +
                                std::to_string(broker_count) + ", or all)"};
    }
    command.broker = *broker;
  }
  if (command.kind == ControlCommand::Kind::rtt) {
    const auto rtt = parse_int(w[2]);
    if (!rtt || *rtt < 0 || *rtt > kMaxRttMs) {
      return {std::nullopt, "rtt must be 0 to " + std::to_string(kMaxRttMs) + " ms"};
    }
    command.rtt_ms = *rtt;
  }
  return {command, ""};
}

ControlFifo::ControlFifo(MockCluster& cluster, int broker_count, std::string path)
    : cluster_(cluster), broker_count_(broker_count), path_(std::move(path)) {
  struct stat status {};
  if (lstat(path_.c_str(), &status) == 0) {
    // Never write over a file that is not ours to use.
    if (!S_ISFIFO(status.st_mode)) {
      throw std::runtime_error("--control " + path_ + ": exists and is not a named pipe");
    }
  } else if (mkfifo(path_.c_str(), S_IRUSR | S_IWUSR) != 0) {
    throw std::runtime_error("--control " + path_ + ": " + std::strerror(errno));
  }
  // Read and write: the pipe stays open between writers, so no end of file ever spins the loop.
  fd_ = ::open(path_.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd_ < 0) throw std::runtime_error("--control " + path_ + ": " + std::strerror(errno));
  thread_ = std::jthread([this](const std::stop_token& stop) { serve(stop); });
}

ControlFifo::~ControlFifo() {
  thread_.request_stop();
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) ::close(fd_);
}

void ControlFifo::serve(const std::stop_token& stop) {
  std::string pending;
  char buffer[512];
  while (!stop.stop_requested()) {
    pollfd descriptor{fd_, POLLIN, 0};
    if (::poll(&descriptor, 1, 200) <= 0) continue;
    const ssize_t n = ::read(fd_, buffer, sizeof(buffer));
    if (n <= 0) continue;
    pending.append(buffer, static_cast<std::size_t>(n));
    std::size_t newline = 0;
    while ((newline = pending.find('\n')) != std::string::npos) {
      execute(std::string_view(pending).substr(0, newline));
      pending.erase(0, newline + 1);
    }
    if (pending.size() > kMaxControlLine) {
      spdlog::warn("dev broker control: a line longer than {} bytes, dropped", kMaxControlLine);
      pending.clear();
    }
  }
}

void ControlFifo::execute(std::string_view line) {
  if (line.size() > kMaxControlLine) {
    spdlog::warn("dev broker control: a line longer than {} bytes, dropped", kMaxControlLine);
    return;
  }
  const ParsedControl parsed = parse_control_line(line, broker_count_);
  if (!parsed.command) {
    spdlog::warn("dev broker control: {}", parsed.error);
    return;
  }
  const ControlCommand& command = *parsed.command;
  if (command.kind == ControlCommand::Kind::fail) {
    cluster_.push_request_errors(
        command.api_key,
        std::vector<rd_kafka_resp_err_t>(static_cast<std::size_t>(command.count), command.error));
    spdlog::info("dev broker control: the next {} requests of API key {} answer {}", command.count,
                 command.api_key, rd_kafka_err2name(command.error));
    return;
  }
  const int first = command.broker == 0 ? 1 : command.broker;
  const int last = command.broker == 0 ? broker_count_ : command.broker;
  for (int broker = first; broker <= last; ++broker) {
    switch (command.kind) {
      case ControlCommand::Kind::down:
        cluster_.set_broker_down(broker);
        break;
      case ControlCommand::Kind::up:
        cluster_.set_broker_up(broker);
        break;
      case ControlCommand::Kind::rtt:
        cluster_.set_broker_rtt(broker, command.rtt_ms);
        break;
      case ControlCommand::Kind::fail:
        break;
    }
  }
  const char* what = command.kind == ControlCommand::Kind::down ? "down"
                     : command.kind == ControlCommand::Kind::up ? "up"
                                                                : "rtt";
  const std::string broker =
      command.broker == 0 ? std::string("all") : std::to_string(command.broker);
  if (command.kind == ControlCommand::Kind::rtt) {
    spdlog::info("dev broker control: {} {} {} ms", what, broker, command.rtt_ms);
  } else {
    spdlog::info("dev broker control: {} {}", what, broker);
  }
}

}  // namespace tastesync
