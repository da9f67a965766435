#include "tests/support/broker_test.hpp"

#include <set>

namespace tastesync::testing {

void BrokerTest::stop_broker() {
  producer_.reset();
  broker_.reset();
}

void BrokerTest::start_broker(const std::vector<std::string>& topics) {
  broker_ = std::make_unique<DevBroker>(dir_.path(), topics);
  producer_ = std::make_unique<TestProducer>(broker_->bootstrap_servers());
}

PipelineOptions BrokerTest::pipeline_options(const std::string& name,
                                             const std::string& state_name) const {
  PipelineOptions options;
  options.name = name;
  options.brokers = broker_->bootstrap_servers();
  options.state_dir = dir_.path() / ("state-" + state_name);
  return options;
}

std::unique_ptr<PipelineProcess> BrokerTest::start_pipeline(const PipelineOptions& options) const {
  return std::make_unique<PipelineProcess>(dir_.path(), options);
}

std::unique_ptr<Subprocess> BrokerTest::start_gen(const std::string& name,
                                                  const GenOptions& options) const {
  return std::make_unique<Subprocess>(
      std::vector<std::string>{
          tastesync_binary(), "gen", "--brokers", brokers(), "--topic", options.topic, "--seed",
          std::to_string(options.seed), "--count", std::to_string(options.count), "--rate",
          std::to_string(options.rate_per_s), "--customers", std::to_string(options.customers),
          "--bad-ratio", std::to_string(options.bad_ratio), "--start-time", options.start_time},
      dir_.path(), name);
}

void BrokerTest::run_reference() {
  PipelineOptions reference = pipeline_options("pipeline-reference", "reference");
  reference.group_id = "reference";
  reference.output_topic = "events-reference";
  reference.dlq_topic = "dlq-reference";
  auto single = start_pipeline(reference);
  wait_caught_up(reference.group_id, "raw-beacons", *single);
  if (::testing::Test::HasFatalFailure()) return;
  const ExitStatus stopped = single->stop();
  EXPECT_TRUE(stopped.exited_with(0)) << stopped.describe();
}

std::multiset<std::string> event_ids_of(const std::vector<Record>& events) {
  std::multiset<std::string> ids;
  for (const Record& event : events) ids.insert(event.header_text("event_id"));
  return ids;
}

std::set<std::string> distinct_ids(const std::multiset<std::string>& ids) {
  return {ids.begin(), ids.end()};
}

namespace {

// Up to `limit` of `events` whose event_id is not in `ids`, one per line.
std::string events_missing_from(const std::vector<Record>& events, const std::set<std::string>& ids,
                                std::size_t& count) {
  constexpr std::size_t limit = 5;
  std::string lines;
  std::set<std::string> listed;
  for (const Record& event : events) {
    const std::string id = event.header_text("event_id");
    if (ids.contains(id) || !listed.insert(id).second) continue;
    if (++count > limit) continue;
    lines += "  " + std::to_string(event.partition) + "@" + std::to_string(event.offset) + " key " +
             event.key.value_or("(null)") + ": " + event.value.value_or("(null)").substr(0, 300) +
             "\n";
  }
  return lines;
}

}  // namespace

std::string event_id_difference(const std::vector<Record>& events,
                                const std::vector<Record>& reference) {
  const auto ids = distinct_ids(event_ids_of(events));
  const auto reference_ids = distinct_ids(event_ids_of(reference));
  if (ids == reference_ids) return "";
  std::size_t extra = 0;
  std::size_t missing = 0;
  const std::string extra_lines = events_missing_from(events, reference_ids, extra);
  const std::string missing_lines = events_missing_from(reference, ids, missing);
  return std::to_string(ids.size()) + " distinct event_ids against " +
         std::to_string(reference_ids.size()) + " in the reference; " + std::to_string(extra) +
         " not in the reference:\n" + extra_lines + std::to_string(missing) +
         " of the reference missing:\n" + missing_lines;
}

std::set<std::string> dead_letter_sources(const std::vector<Record>& letters) {
  std::set<std::string> sources;
  for (const Record& letter : letters) {
    sources.insert(letter.header_text("dlq.source.partition") + "/" +
                   letter.header_text("dlq.source.offset"));
  }
  return sources;
}

void BrokerTest::wait_caught_up(const std::string& group_id, const std::string& topic,
                                PipelineProcess& pipeline) {
  KafkaInspector inspector(brokers());
  // The commit trails delivery (docs/contract.md#delivery): a committed end means every output is
  // written.
  const bool caught_up = wait_until(
      [&] { return !pipeline.process().running() || inspector.caught_up(group_id, topic); },
      kCatchUpTimeout, std::chrono::milliseconds(250));
  if (const auto ended = pipeline.process().wait_for_exit(std::chrono::milliseconds(0))) {
    FAIL() << pipeline.process().name() << " ended (" << ended->describe() << ") before "
           << group_id << " had committed all of " << topic;
  }
  if (!caught_up) {
    const auto end = inspector.high_watermarks(topic);
    const auto committed = inspector.committed_offsets(group_id, topic);
    std::string progress;
    for (std::size_t p = 0; p < end.size(); ++p) {
      progress += " [" + std::to_string(p) + "] " + std::to_string(committed[p]) + "/" +
                  std::to_string(end[p]);
    }
    FAIL() << group_id << " did not commit all of " << topic << ":" << progress;
  }
}

std::vector<Record> BrokerTest::read_all(const std::string& topic) const {
  TopicReader reader(brokers(), topic);
  reader.read_to_end();
  return sorted_by_partition(reader.records());
}

Delivery BrokerTest::produce_sighting(const BeaconSighting& sighting, const std::string& topic) {
  OutgoingRecord record;
  record.key = sighting.customer_id;
  record.value = to_json(sighting);
  record.timestamp_ms = epoch_ms(sighting.detected_at) + 50;
  return producer_->produce(topic, record);
}

std::optional<Record> BrokerTest::produce_until_identified(
    TopicReader& events, const std::function<BeaconSighting(int)>& sighting,
    std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  // Any of them, not only the last: sightings produced before the pipeline has its partitions
  // are all read at once when it does, and only the first of them makes an event (a customer
  // staying put makes no other for a while).
  std::set<std::string> produced;
  const auto first_event = [&](const std::vector<Record>& records) -> const Record* {
    for (const Record& event : records) {
      if (produced.contains(json_string(parse_json(event.value), "/data/sighting_id"))) {
        return &event;
      }
    }
    return nullptr;
  };
  for (int i = 1; std::chrono::steady_clock::now() < deadline; ++i) {
    const BeaconSighting next = sighting(i);
    produced.insert(next.sighting_id);
    produce_sighting(next);
    const auto found = [&](const std::vector<Record>& records) {
      return first_event(records) != nullptr;
    };
    if (events.read_until(found, std::chrono::milliseconds(500))) {
      return *first_event(events.records());
    }
  }
  return std::nullopt;
}

const Record* event_of_sighting(const std::vector<Record>& events, std::string_view sighting_id) {
  for (const Record& event : events) {
    if (json_string(parse_json(event.value), "/data/sighting_id") == sighting_id) return &event;
  }
  return nullptr;
}

std::vector<Record> events_of_customer(const std::vector<Record>& events,
                                       std::string_view customer_id) {
  std::vector<Record> found;
  for (const Record& event : events) {
    if (event.key == customer_id) found.push_back(event);
  }
  return found;
}

std::string without_timestamp(const std::optional<std::string>& event_value) {
  // Textual, so every other byte is compared as written: the writer puts the top-level
  // "timestamp" before "data", so its first occurrence is that member.
  std::string value = event_value.value_or("null");
  const std::string member = "\"timestamp\":\"";
  const auto begin = value.find(member);
  if (begin == std::string::npos) return value;
  const auto end = value.find('"', begin + member.size());
  if (end == std::string::npos) return value;
  value.replace(begin + member.size(), end - begin - member.size(), "<timestamp>");
  return value;
}

BeaconSighting at_table_3(const std::string& customer, const std::string& sighting_id,
                          std::int64_t detected_at_ms) {
  return beacon_sighting(sighting_id, customer, 13, detected_at_ms);
}

std::string sentinel_in_partition_of(const std::string& customer, int partitions) {
  const std::int32_t partition = murmur2_partition(customer, partitions);
  for (int i = 0;; ++i) {
    std::string candidate = "sentinel-" + std::to_string(i);
    if (murmur2_partition(candidate, partitions) == partition) return candidate;
  }
}

}  // namespace tastesync::testing
