// The start-up topic check creates a missing changelog as Kafka Streams creates its internal
// topics, and where the broker cannot, names the command that does (docs/contract.md#topics):
// the real librdkafka client against the in-process mock cluster, bare (no CreateTopics) and
// with the dev broker's topic requests.
#include "pipeline/topic_check.hpp"

#include <gtest/gtest.h>

#include <string>

#include "app/dev/dev_broker_services.hpp"
#include "app/dev/mock_cluster.hpp"
#include "kafka/kafka.hpp"

namespace tastesync {
namespace {

Config group_config(const MockCluster& cluster) {
  Config config;
  config.kafka.brokers = cluster.bootstrap_servers();
  config.kafka.group_id = "myapp";
  config.kafka.topic_check_timeout_ms = 1500;
  return config;
}

KafkaHandle producer(const MockCluster& cluster) {
  return make_kafka_handle(
      RD_KAFKA_PRODUCER,
      make_kafka_conf({{"bootstrap.servers", cluster.bootstrap_servers()}}, "test"));
}

void create_data_topics(MockCluster& cluster, int partitions) {
  for (const char* topic : {"raw-beacons", "customer-events", "raw-beacons-dlq"}) {
    cluster.create_topic(topic, partitions);
  }
}

TEST(TopicCheck, AMissingChangelogIsCreatedWithTheInputsPartitions) {
  MockCluster cluster;
  create_data_topics(cluster, 24);
  cluster.create_topic(std::string(kDevBrokerAdminTopic), 1);
  const TopicRequestServer requests(cluster);
  const Config config = group_config(cluster);
  const KafkaHandle handle = producer(cluster);
  EXPECT_EQ(check_topics(config), 24);
  EXPECT_EQ(list_topics(handle.get(), 1500).at("myapp-state-changelog"), 24);
  // The next start finds it.
  EXPECT_EQ(check_topics(config), 24);
}

TEST(TopicCheck, WhereTheBrokerCannotCreateItTheErrorNamesTheCommand) {
  MockCluster cluster;  // bare: no CreateTopics, no topic requests
  create_data_topics(cluster, 6);
  const Config config = group_config(cluster);
  const KafkaHandle handle = producer(cluster);
  try {
    check_topics(config);
    FAIL() << "started without a changelog";
  } catch (const ConfigError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("state.changelog_topic: topic 'myapp-state-changelog' does not exist"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("create it with: tastesync topics create --brokers " +
                           cluster.bootstrap_servers() + " --group-id myapp"),
              std::string::npos)
        << message;
  }
  // Named only in a listing, never in a request: the mock did not create it with 4 partitions.
  EXPECT_FALSE(list_topics(handle.get(), 1500).contains("myapp-state-changelog"));
}

TEST(TopicCheck, AChangelogOfAnotherPartitionCountIsRefused) {
  MockCluster cluster;
  create_data_topics(cluster, 6);
  cluster.create_topic("myapp-state-changelog", 4);
  const KafkaHandle handle = producer(cluster);
  EXPECT_THROW(check_topics(group_config(cluster)), ConfigError);
}

TEST(ConfiguredTopics, EveryTopicOfTheConfigurationWithTheChangelogCompacted) {
  Config config;
  config.kafka.group_id = "g";
  config.topics.partitions = 12;
  config.topics.replication_factor = 3;
  const auto topics = configured_topics(config, 24);
  ASSERT_EQ(topics.size(), 5u);
  EXPECT_EQ(topics[0].spec.name, "raw-beacons");
  EXPECT_EQ(topics[0].spec.partitions, 12);
  EXPECT_EQ(topics[0].spec.replication_factor, 3);
  EXPECT_EQ(topics[3].spec.name, "customer-events-sink-dlq");
  const TopicSpec& changelog = topics[4].spec;
  EXPECT_EQ(changelog.name, "g-state-changelog");
  EXPECT_EQ(changelog.partitions, 24);
  ASSERT_FALSE(changelog.configs.empty());
  EXPECT_EQ(changelog.configs[0],
            (std::pair<std::string, std::string>("cleanup.policy", "compact,delete")));
  // Assign mode has no changelog (state.changelog auto).
  config.kafka.consumer_mode = ConsumerMode::assign;
  EXPECT_EQ(configured_topics(config, 24).size(), 4u);
}

TEST(ConfiguredTopics, TheCommandCarriesWhatNamesTheChangelog) {
  Config config;
  config.kafka.brokers = "k:9092";
  EXPECT_EQ(topics_create_command(config), "tastesync topics create --brokers k:9092");
  config.kafka.group_id = "app";
  config.kafka.input_topic = "in";
  config.state.changelog_topic = "cl";
  EXPECT_EQ(topics_create_command(config),
            "tastesync topics create --brokers k:9092 --group-id app --input-topic in "
            "--changelog-topic cl");
}

}  // namespace
}  // namespace tastesync
