#include "config/config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

#include "config/config_test_support.hpp"

namespace tastesync {
namespace {

using config_testing::described;
using config_testing::load_error;

using Settings = std::vector<std::pair<std::string, std::string>>;

// The message of the ConfigError that loading these sources throws ("" when none is thrown).
std::string override_error(const std::string& key, const std::string& value) {
  return load_error({.overrides = {{key, value}}});
}

class ConfigFile : public config_testing::ConfigDirTest {
 protected:
  std::string write_yaml(const std::string& text) const { return write("tastesync.yaml", text); }
};

TEST(Config, NoSourcesGiveTheDefaults) {
  const Config config = load_config({});
  EXPECT_EQ(config.kafka.brokers, "");
  EXPECT_EQ(config.kafka.group_id, "tastesync");
  EXPECT_EQ(config.kafka.consumer_mode, ConsumerMode::group);
  EXPECT_EQ(config.kafka.session_timeout_ms, 6000);
  EXPECT_EQ(config.metrics.port, 9464);
  EXPECT_EQ(config.score.min_confidence, 0.8);
  EXPECT_EQ(config.log.level, "info");
  EXPECT_TRUE(config.kafka.properties.empty());
}

TEST_F(ConfigFile, YamlSetsNestedKeys) {
  const Config config = load_config({.yaml_path = write_yaml("kafka:\n"
                                                             "  brokers: k1:9092,k2:9092\n"
                                                             "  consumer_mode: assign\n"
                                                             "score:\n"
                                                             "  min_confidence: 0.9\n"
                                                             "log: {level: debug, json: true}\n")});
  EXPECT_EQ(config.kafka.brokers, "k1:9092,k2:9092");
  EXPECT_EQ(config.kafka.consumer_mode, ConsumerMode::assign);
  EXPECT_EQ(config.score.min_confidence, 0.9);
  EXPECT_EQ(config.log.level, "debug");
  EXPECT_TRUE(config.log.json);
  EXPECT_EQ(config.kafka.group_id, "tastesync");
}

TEST_F(ConfigFile, EmptyYamlFileSetsNothing) {
  const Config config = load_config({.yaml_path = write_yaml("")});
  EXPECT_EQ(config.kafka.group_id, "tastesync");
}

TEST_F(ConfigFile, EnvironmentBeatsYaml) {
  const Config config =
      load_config({.yaml_path = write_yaml("kafka: {brokers: from-yaml:9092}\n"),
                   .environment = {{"TASTESYNC_KAFKA__BROKERS", "from-env:9092"}}});
  EXPECT_EQ(config.kafka.brokers, "from-env:9092");
}

TEST(Config, OverrideBeatsEnvironment) {
  const Config config = load_config({.environment = {{"TASTESYNC_STATE__RETENTION_MS", "7200000"}},
                                     .overrides = {{"state.retention_ms", "9000000"}}});
  EXPECT_EQ(config.state.retention_ms, 9000000);
}

TEST(Config, LaterOverrideBeatsEarlierOne) {
  const Config config =
      load_config({.overrides = {{"metrics.port", "1000"}, {"metrics.port", "2000"}}});
  EXPECT_EQ(config.metrics.port, 2000);
}

TEST_F(ConfigFile, UnknownYamlKeyNamesTheFullKeyAndTheFile) {
  const std::string path = write_yaml("kafka:\n  brokrs: x:9092\n");
  const std::string error = load_error({.yaml_path = path});
  EXPECT_NE(error.find("config file " + path), std::string::npos) << error;
  EXPECT_NE(error.find("unknown key 'kafka.brokrs'"), std::string::npos) << error;
  EXPECT_NE(error.find("line 2"), std::string::npos) << error;
}

TEST_F(ConfigFile, UnknownYamlKeySuggestsTheClosestKnownKey) {
  const std::string error = load_error({.yaml_path = write_yaml("kafka:\n  brokrs: x:9092\n")});
  EXPECT_NE(error.find("did you mean 'kafka.brokers'?"), std::string::npos) << error;
}

TEST_F(ConfigFile, ScalarWhereASectionBelongsIsAnErrorNamingTheSection) {
  const std::string error = load_error({.yaml_path = write_yaml("kafka: localhost:9092\n")});
  EXPECT_NE(error.find("kafka is a section"), std::string::npos) << error;
}

TEST_F(ConfigFile, MappingWhereAValueBelongsIsAnErrorNamingTheKey) {
  const std::string error = load_error({.yaml_path = write_yaml("kafka:\n  brokers: {a: b}\n")});
  EXPECT_NE(error.find("kafka.brokers expects a single value"), std::string::npos) << error;
}

TEST_F(ConfigFile, KeySetTwiceInOneFileIsAnError) {
  const std::string error =
      load_error({.yaml_path = write_yaml("kafka:\n  brokers: a:1\nkafka.brokers: b:2\n")});
  EXPECT_NE(error.find("kafka.brokers is set twice"), std::string::npos) << error;
}

TEST_F(ConfigFile, BadValueInYamlNamesKeyFileAndLine) {
  const std::string path = write_yaml("metrics:\n  port: http\n");
  const std::string error = load_error({.yaml_path = path});
  EXPECT_NE(
      error.find("metrics.port: 'http' is not an integer (from config file " + path + ", line 2)"),
      std::string::npos)
      << error;
}

TEST_F(ConfigFile, MalformedYamlNamesTheFileAndTheLine) {
  const std::string path = write_yaml("kafka:\n  brokers: [a, b\n  group_id: g\n");
  const std::string error = load_error({.yaml_path = path});
  EXPECT_NE(error.find("config file " + path + ": invalid YAML at line"), std::string::npos)
      << error;
}

TEST_F(ConfigFile, MissingYamlFileNamesTheFile) {
  const std::string path = (dir_ / "absent.yaml").string();
  const std::string error = load_error({.yaml_path = path});
  EXPECT_NE(error.find("config file " + path + ": cannot be opened"), std::string::npos) << error;
}

TEST(Config, UnknownTastesyncVariableIsAnErrorNamingIt) {
  const std::string error = load_error({.environment = {{"TASTESYNC_KAFKA__BROKRS", "x:9092"}}});
  EXPECT_NE(error.find("environment variable TASTESYNC_KAFKA__BROKRS does not name a setting"),
            std::string::npos)
      << error;
  EXPECT_NE(error.find("did you mean TASTESYNC_KAFKA__BROKERS?"), std::string::npos) << error;
}

TEST(Config, VariablesWithoutTheTastesyncPrefixAreIgnored) {
  const Config config = load_config(
      {.environment = {{"HOME", "/root"}, {"KAFKA__BROKERS", "x:1"}, {"TASTESYNCX", "1"}}});
  EXPECT_EQ(config.kafka.brokers, "");
}

TEST(Config, EnvironmentValueErrorNamesTheKeyAndTheVariable) {
  const std::string error =
      load_error({.environment = {{"TASTESYNC_KAFKA__CONSUMER_MODE", "grop"}}});
  EXPECT_EQ(error,
            "kafka.consumer_mode: 'grop' is not one of group, assign "
            "(from TASTESYNC_KAFKA__CONSUMER_MODE)");
}

TEST(Config, NonIntegerIsRejectedNamingTheKey) {
  EXPECT_EQ(override_error("kafka.session_timeout_ms", "six"),
            "kafka.session_timeout_ms: 'six' is not an integer (from the command line)");
}

TEST(Config, IntegerWithTrailingJunkIsRejected) {
  EXPECT_NE(override_error("state.retention_ms", "3600000ms").find("is not an integer"),
            std::string::npos);
}

TEST(Config, OutOfRangePortNamesTheAllowedRange) {
  EXPECT_EQ(override_error("metrics.port", "70000"),
            "metrics.port: '70000' is not between 0 and 65535 (from the command line)");
}

TEST(Config, IntegerBeyondInt64IsOutOfRangeNotGarbage) {
  EXPECT_NE(override_error("state.block_cache_bytes", "99999999999999999999").find("not between"),
            std::string::npos);
}

TEST(Config, ZeroDurationIsRejected) {
  EXPECT_NE(
      override_error("dedupe.interval_ms", "0").find("dedupe.interval_ms: '0' is not between 1"),
      std::string::npos);
}

TEST(Config, BadLogLevelListsTheAllowedLevels) {
  EXPECT_EQ(override_error("log.level", "verbose"),
            "log.level: 'verbose' is not one of trace, debug, info, warn, error "
            "(from the command line)");
}

TEST(Config, EnumValuesMatchRegardlessOfCase) {
  const Config config = load_config({.overrides = {{"log.level", "WARN"}}});
  EXPECT_EQ(config.log.level, "warn");
}

TEST(Config, BadBooleanListsTheAcceptedSpellings) {
  EXPECT_EQ(override_error("log.json", "maybe"),
            "log.json: 'maybe' is not a boolean; use true, false, yes, no, 1 or 0 "
            "(from the command line)");
}

TEST(Config, BooleansAcceptYesNoAndDigits) {
  const Config config = load_config({.overrides = {{"log.json", "yes"},
                                                   {"output.quiet", "1"},
                                                   {"output.print_events", "true"},
                                                   {"output.print_events", "no"}}});
  EXPECT_TRUE(config.log.json);
  EXPECT_TRUE(config.output.quiet);
  EXPECT_FALSE(config.output.print_events);
}

TEST(Config, MinConfidenceMustBeAboveZeroAndAtMostOne) {
  EXPECT_EQ(
      override_error("score.min_confidence", "0"),
      "score.min_confidence: '0' is not greater than 0 and at most 1 (from the command line)");
  EXPECT_NE(override_error("score.min_confidence", "1.01"), "");
  EXPECT_EQ(load_config({.overrides = {{"score.min_confidence", "1"}}}).score.min_confidence, 1.0);
}

TEST(Config, NonNumericDoubleIsRejected) {
  EXPECT_NE(override_error("score.path_loss_exponent", "nan").find("is not a number"),
            std::string::npos);
}

TEST(Config, TxPowerMustBeBetweenMinus100AndMinus1) {
  EXPECT_NE(override_error("score.default_tx_power_dbm", "0").find("not between -100 and -1"),
            std::string::npos);
}

TEST(Config, UnknownOverrideKeyIsAnErrorNamingIt) {
  EXPECT_EQ(override_error("metrics.prot", "1"),
            "unknown key 'metrics.prot' (from the command line); did you mean 'metrics.port'?");
}

TEST_F(ConfigFile, PropertiesFromYamlAcceptFlatAndNestedNames) {
  const Config config = load_config({.yaml_path = write_yaml("kafka:\n"
                                                             "  properties:\n"
                                                             "    ssl.ca.location: /etc/ca.pem\n"
                                                             "    sasl:\n"
                                                             "      mechanism: PLAIN\n"
                                                             "    security.protocol: SASL_SSL\n")});
  const std::map<std::string, std::string> expected = {{"ssl.ca.location", "/etc/ca.pem"},
                                                       {"sasl.mechanism", "PLAIN"},
                                                       {"security.protocol", "SASL_SSL"}};
  EXPECT_EQ(config.kafka.properties, expected);
}

TEST(Config, PropertiesFromEnvironmentAreLowerCasedAndDotted) {
  const Config config = load_config(
      {.environment = {{"TASTESYNC_KAFKA__PROPERTIES__SSL__CA__LOCATION", "/etc/CA.pem"}}});
  EXPECT_EQ(config.kafka.properties.at("ssl.ca.location"), "/etc/CA.pem");
}

TEST(Config, PropertiesFromOverrides) {
  const Config config = load_config({.overrides = {{"kafka.properties.sasl.username", "svc"}}});
  EXPECT_EQ(config.kafka.properties.at("sasl.username"), "svc");
}

TEST(Config, PropertyOwnedByADedicatedKeyIsRejected) {
  EXPECT_EQ(
      override_error("kafka.properties.bootstrap.servers", "x:9092"),
      "kafka.properties.bootstrap.servers: set kafka.brokers instead (from the command line)");
}

TEST(Config, DescribeRedactsSecretProperties) {
  Config config;
  config.kafka.properties = {{"sasl.password", "hunter2"},
                             {"ssl.key.pem", "-----BEGIN PRIVATE KEY-----"},
                             {"sasl.oauthbearer.client.secret", "s"},
                             {"sasl.oauthbearer.config", "principal=x"}};
  for (const auto& [key, value] : describe_config(config)) {
    if (key.starts_with("kafka.properties.")) {
      EXPECT_EQ(value, "***") << key;
    }
  }
}

TEST(Config, DescribeShowsNonSecretValuesIncludingKeyPaths) {
  Config config;
  config.kafka.brokers = "k1:9092";
  config.kafka.properties = {{"ssl.key.location", "/etc/client.key"}, {"sasl.username", "svc"}};
  EXPECT_EQ(described(config, "kafka.brokers"), "k1:9092");
  EXPECT_EQ(described(config, "kafka.properties.ssl.key.location"), "/etc/client.key");
  EXPECT_EQ(described(config, "kafka.properties.sasl.username"), "svc");
  EXPECT_EQ(described(config, "kafka.consumer_mode"), "group");
  EXPECT_EQ(described(config, "score.min_confidence"), "0.8");
}

TEST(Config, DescribeListsEveryKeyOnceInAStableOrder) {
  const auto first = describe_config(Config{});
  EXPECT_EQ(first, describe_config(Config{}));
  std::set<std::string> names;
  for (const auto& [key, value] : first) EXPECT_TRUE(names.insert(key).second) << key;
  EXPECT_EQ(first.front().first, "kafka.brokers");
  EXPECT_TRUE(names.contains("shutdown.timeout_ms"));
}

TEST(Config, DescribeListsPropertiesRightAfterTheOtherKafkaKeys) {
  Config config;
  config.kafka.properties = {{"client.id", "c"}};
  const auto described = describe_config(config);
  const auto property = std::find_if(described.begin(), described.end(), [](const auto& entry) {
    return entry.first == "kafka.properties.client.id";
  });
  ASSERT_NE(property, described.end());
  EXPECT_TRUE(std::prev(property)->first.starts_with("kafka."));
  EXPECT_FALSE(std::next(property)->first.starts_with("kafka."));
}

TEST(Config, EveryDescribedValueReadsBackToTheSameConfig) {
  Config config = load_config({.overrides = {{"score.path_loss_exponent", "2.7"},
                                             {"kafka.consumer_mode", "assign"},
                                             {"kafka.properties.client.id", "c"}}});
  Config copy;
  for (const auto& [key, value] : describe_config(config)) set_config_value(copy, key, value);
  EXPECT_EQ(describe_config(copy), describe_config(config));
}

TEST(Config, HeartbeatNotBelowSessionTimeoutFails) {
  const std::string error = override_error("kafka.heartbeat_interval_ms", "6000");
  EXPECT_NE(error.find("kafka.heartbeat_interval_ms (6000) must be less than "
                       "kafka.session_timeout_ms (6000)"),
            std::string::npos)
      << error;
}

TEST(Config, RequireBrokersWithoutBrokersFails) {
  EXPECT_NE(override_error("kafka.require_brokers", "true").find("kafka.brokers is empty"),
            std::string::npos);
}

TEST(Config, OutputTopicEqualToInputTopicFails) {
  EXPECT_NE(override_error("kafka.output_topic", "raw-beacons").find("three different topics"),
            std::string::npos);
}

TEST(Config, RetentionShorterThanTheDedupeIntervalFails) {
  EXPECT_NE(override_error("state.retention_ms", "30000").find("state.retention_ms (30000)"),
            std::string::npos);
}

TEST(Config, ExactlyOnceKeepsTheChangelogOnInEveryMode) {
  const Config assign = load_config(
      {.overrides = {{"kafka.consumer_mode", "assign"}, {"processing.guarantee", "exactly_once"}}});
  EXPECT_EQ(assign.processing.guarantee, Guarantee::exactly_once);
  EXPECT_TRUE(changelog_enabled(assign));
  EXPECT_FALSE(changelog_enabled(load_config({.overrides = {{"kafka.consumer_mode", "assign"}}})));
  EXPECT_NE(load_error({.overrides = {{"processing.guarantee", "exactly_once"},
                                      {"state.changelog", "off"}}})
                .find("exactly_once but state.changelog is off"),
            std::string::npos);
  EXPECT_NE(override_error("processing.guarantee", "twice").find("at_least_once, exactly_once"),
            std::string::npos);
}

TEST(Config, TheTransactionalIdIsStablePerStateDirAndDiffersBetweenThem) {
  Config a;
  a.kafka.group_id = "app";
  a.state.dir = "/var/lib/tastesync/a";
  Config b = a;
  b.state.dir = "/var/lib/tastesync/b";
  EXPECT_EQ(transactional_id(a), transactional_id(a));
  EXPECT_NE(transactional_id(a), transactional_id(b));
  EXPECT_EQ(transactional_id(a).rfind("app-", 0), 0u) << transactional_id(a);
  a.processing.transactional_id = "store-7";
  EXPECT_EQ(transactional_id(a), "store-7");
  // Set only through processing.*: a kafka.properties spelling would bypass the guarantee.
  EXPECT_NE(override_error("kafka.properties.transactional.id", "x").find("processing.guarantee"),
            std::string::npos);
  EXPECT_NE(override_error("kafka.properties.isolation.level", "read_uncommitted"), "");
}

TEST(Config, ValidateCatchesOutOfRangeValuesSetInCode) {
  Config config;
  config.metrics.port = -1;
  EXPECT_THROW(validate_config(config), ConfigError);
}

TEST(Config, EnvironmentNameUpperCasesAndDoublesTheSeparators) {
  EXPECT_EQ(environment_name("state.retention_ms"), "TASTESYNC_STATE__RETENTION_MS");
}

TEST(Config, ProcessEnvironmentReadsEnviron) {
  ::setenv("TASTESYNC_CONFIG_TEST_PROBE", "a=b", 1);
  const Settings variables = process_environment();
  ::unsetenv("TASTESYNC_CONFIG_TEST_PROBE");
  const std::pair<std::string, std::string> probe{"TASTESYNC_CONFIG_TEST_PROBE", "a=b"};
  EXPECT_NE(std::find(variables.begin(), variables.end(), probe), variables.end());
}

}  // namespace
}  // namespace tastesync

namespace tastesync {
namespace {

TEST(Config, ShippedExampleConfigLoadsAndMatchesTheDefaults) {
  const Config loaded = load_config(ConfigSources{.yaml_path = std::string(TASTESYNC_SOURCE_DIR) +
                                                               "/deploy/config.example.yaml"});
  EXPECT_EQ(describe_config(loaded), describe_config(Config{}));
}

}  // namespace
}  // namespace tastesync
