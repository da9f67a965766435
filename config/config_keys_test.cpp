// The key table as the tools and the shipped example see it: every key in
// deploy/config.example.yaml, what each accepts, and the stage options built from the keys.
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"
#include "config/topology_options.hpp"

namespace tastesync {
namespace {

const std::string kExampleConfig =
    std::string(TASTESYNC_SOURCE_DIR) + "/deploy/config.example.yaml";

// The example is the operator's list of keys: a key added to the table and not to the file
// would still load (to its default), so each key is looked up in the file itself.
TEST(Config, ShippedExampleConfigWritesEveryKeyOfTheTable) {
  const YAML::Node example = YAML::LoadFile(kExampleConfig);
  for (const KeyDescription& key : describe_keys()) {
    std::vector<YAML::Node> path = {example};
    std::size_t start = 0;
    for (std::size_t dot = key.key.find('.');; dot = key.key.find('.', start)) {
      const std::string part = key.key.substr(start, dot - start);
      path.push_back(path.back()[part]);
      if (dot == std::string::npos) break;
      start = dot + 1;
    }
    EXPECT_TRUE(path.back().IsDefined() && path.back().IsScalar())
        << key.key << " is missing from deploy/config.example.yaml";
  }
}

TEST(Config, DescribedKeysSayWhatTheyAccept) {
  const auto keys = describe_keys();
  const auto find = [&keys](std::string_view name) {
    return *std::find_if(keys.begin(), keys.end(),
                         [name](const KeyDescription& key) { return key.key == name; });
  };
  EXPECT_EQ(find("score.min_confidence").default_value, "0.8");
  EXPECT_EQ(find("score.min_confidence").accepts, "a number greater than 0 and at most 1");
  EXPECT_EQ(find("score.radius_table_m").default_value, "1");
  EXPECT_EQ(find("dedupe.interval_ms").accepts, "an integer from 1 to 315360000000");
  EXPECT_EQ(find("kafka.consumer_mode").accepts, "one of group | assign");
  EXPECT_EQ(find("log.json").accepts, "true or false");
  EXPECT_EQ(find("kafka.brokers").accepts, "text");
  EXPECT_EQ(find("parse.max_record_bytes").accepts, "an integer from 1 to 2147483647");
}

TEST(Config, TheStagesOptionsComeFromTheirKeys) {
  Config config;
  set_config_value(config, "score.radius_counter_m", "2.5");
  set_config_value(config, "parse.max_record_bytes", "8192");
  set_config_value(config, "state.retention_ms", "7200000");
  const TopologyOptions options = topology_options(config);
  EXPECT_EQ(options.score.radius_m[static_cast<std::size_t>(LocationType::counter)], 2.5);
  EXPECT_EQ(options.score.radius_m[static_cast<std::size_t>(LocationType::table)],
            ScoreOptions{}.radius_m[static_cast<std::size_t>(LocationType::table)]);
  EXPECT_EQ(options.parse.max_record_bytes, 8192U);
  EXPECT_EQ(options.state_expiry_lag_ms(), 7200000 + TopologyOptions{}.allowed_lateness_ms);
}

}  // namespace
}  // namespace tastesync
