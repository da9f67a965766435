// Secrets in the configuration (docs/design.md "Secrets"): read from files, never echoed in an
// error, redacted in the effective-config log and by the Redactor built from a Config.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

#include "config/config.hpp"
#include "config/config_keys.hpp"
#include "config/config_test_support.hpp"

namespace tastesync {
namespace {

using config_testing::described;
using config_testing::load_error;

// Holds '?', '%', "://", both quotes and a space: the review's troublesome characters.
constexpr const char* kPassword = R"(s3cret?%zz:// 'x"y)";
// The same password in a keyword DSN (quoted, \' and \\ escaped) and in a URI (percent-encoded).
constexpr const char* kKeywordDsn = R"(host=db user=app password='s3cret?%zz:// \'x"y' dbname=t)";
constexpr const char* kUriDsn = "postgresql://app:s3cret%3F%25zz%3A%2F%2F%20'x%22y@db/t";

using SecretFiles = config_testing::ConfigDirTest;

TEST_F(SecretFiles, DsnFileSetsTheDsnWithoutItsLineEnd) {
  const std::string path = write("dsn", std::string(kKeywordDsn) + "\n");
  const Config config = load_config({.overrides = {{"postgres.dsn_file", path}}});
  EXPECT_EQ(config.postgres.dsn, kKeywordDsn);
  EXPECT_EQ(described(config, "postgres.dsn_file"), path);
  EXPECT_EQ(described(config, "postgres.dsn").find("s3cret"), std::string::npos);
}

TEST_F(SecretFiles, RedisPasswordFileFromTheEnvironment) {
  const std::string path = write("redis", std::string(kPassword) + "\r\n");
  const Config config = load_config({.environment = {{"TASTESYNC_REDIS__PASSWORD_FILE", path}}});
  EXPECT_EQ(config.redis.password, kPassword);
  EXPECT_EQ(described(config, "redis.password"), "***");
}

TEST_F(SecretFiles, KafkaSecretPropertyFileFromYamlFlatOrNested) {
  const std::string path = write("sasl", kPassword);
  const std::string flat =
      write("flat.yaml", "kafka:\n  secret_files:\n    sasl.password: " + path + "\n");
  EXPECT_EQ(load_config({.yaml_path = flat}).kafka.properties.at("sasl.password"), kPassword);
  const std::string nested =
      write("nested.yaml", "kafka: {secret_files: {sasl: {password: " + path + "}}}\n");
  const Config config = load_config({.yaml_path = nested});
  EXPECT_EQ(config.kafka.properties.at("sasl.password"), kPassword);
  EXPECT_EQ(described(config, "kafka.secret_files.sasl.password"), path);
  EXPECT_EQ(described(config, "kafka.properties.sasl.password"), "***");
}

TEST_F(SecretFiles, KafkaSecretFileFromTheEnvironment) {
  const std::string path = write("ssl", "k3y");
  const Config config =
      load_config({.environment = {{"TASTESYNC_KAFKA__SECRET_FILES__SSL__KEY__PASSWORD", path}}});
  EXPECT_EQ(config.kafka.properties.at("ssl.key.password"), "k3y");
}

TEST_F(SecretFiles, OnlySecretPropertiesHaveFiles) {
  const std::string error =
      load_error({.overrides = {{"kafka.secret_files.client.id", write("id", "c")}}});
  EXPECT_NE(error.find("not a secret librdkafka property; set kafka.properties.client.id"),
            std::string::npos)
      << error;
}

// Marking a key secret in the table is all it takes for <key>_file to work.
TEST_F(SecretFiles, EverySecretKeyOfTheTableReadsFromItsFile) {
  // A valid DSN, and plain text without spaces: what any kind of secret should accept.
  const std::string value = "postgresql://app:from-file@db/t";
  const std::string path = write("secret", value);
  int secrets = 0;
  for (const config_keys::KeySpec& spec : config_keys::all_keys()) {
    if (spec.redaction == config_keys::Redaction::none) continue;
    ++secrets;
    const std::string key(spec.key);
    const Config config = load_config({.overrides = {{key + "_file", path}}});
    EXPECT_EQ(spec.get(config), value) << key;
    EXPECT_EQ(described(config, key + "_file"), path) << key;
    EXPECT_EQ(described(config, key).find("from-file"), std::string::npos) << key;
  }
  EXPECT_GE(secrets, 2);
}

TEST_F(SecretFiles, KeyAndItsFileBothSetIsAnError) {
  const std::string error =
      load_error({.environment = {{"TASTESYNC_REDIS__PASSWORD", kPassword}},
                  .overrides = {{"redis.password_file", write("redis", "other")}}});
  EXPECT_NE(error.find("redis.password and redis.password_file are both set"), std::string::npos)
      << error;
  EXPECT_EQ(error.find("s3cret"), std::string::npos) << error;
}

TEST_F(SecretFiles, MissingFileIsAnErrorNamingTheKeyAndThePath) {
  const std::string path = (dir_ / "absent").string();
  EXPECT_EQ(load_error({.overrides = {{"postgres.dsn_file", path}}}),
            "postgres.dsn_file: cannot open " + path + ": No such file or directory");
}

TEST_F(SecretFiles, DirectoryOrEmptyFileIsAnError) {
  EXPECT_EQ(load_error({.overrides = {{"redis.password_file", dir_.string()}}}),
            "redis.password_file: " + dir_.string() + " is a directory, not a file");
  const std::string empty = write("empty", "\n");
  EXPECT_EQ(load_error({.overrides = {{"redis.password_file", empty}}}),
            "redis.password_file: " + empty + " is empty");
}

TEST_F(SecretFiles, OnlyOneLineBreakIsNotPartOfTheValue) {
  const std::string path = write("redis", "pw\n\n");
  EXPECT_EQ(load_config({.overrides = {{"redis.password_file", path}}}).redis.password, "pw\n");
}

TEST_F(SecretFiles, AFileLargerThanAnySecretIsAnErrorShowingNoneOfIt) {
  const std::string path = write("huge", "needle" + std::string(1 << 20, 'x'));
  EXPECT_EQ(load_error({.overrides = {{"redis.password_file", path}}}),
            "redis.password_file: " + path + " is larger than 65536 bytes, too large for a secret");
}

TEST_F(SecretFiles, AFileHoldingAnInvalidDsnNamesTheKeysButShowsNothingOfIt) {
  const std::string path = write("dsn", "postgresql://app:s3cret%zz@db/t");
  const std::string error = load_error({.overrides = {{"postgres.dsn_file", path}}});
  EXPECT_NE(error.find("postgres.dsn: libpq cannot parse"), std::string::npos) << error;
  EXPECT_NE(error.find("read from postgres.dsn_file " + path), std::string::npos) << error;
  EXPECT_EQ(error.find("s3cret"), std::string::npos) << error;
}

TEST_F(SecretFiles, AYamlShapeErrorNeverEchoesTheDsn) {
  const std::string section =
      load_error({.yaml_path = write("a.yaml", std::string("postgres: \"") +
                                                   "host=db password=s3cret?x://y\"\n")});
  EXPECT_NE(section.find("postgres is a section"), std::string::npos) << section;
  EXPECT_EQ(section.find("s3cret"), std::string::npos) << section;
  const std::string top = load_error({.yaml_path = write("b.yaml", "host=db password=s3cret\n")});
  EXPECT_NE(top.find("top level must be a mapping"), std::string::npos) << top;
  EXPECT_EQ(top.find("s3cret"), std::string::npos) << top;
}

TEST(ConfigSecrets, AnInvalidDsnIsAStartErrorThatShowsNothingOfIt) {
  const std::string error =
      load_error({.overrides = {{"postgres.dsn", "postgresql://app:s3cret%zz@db/t"}}});
  EXPECT_NE(error.find("postgres.dsn: libpq cannot parse this connection string "
                       "(invalid percent-encoded token)"),
            std::string::npos)
      << error;
  EXPECT_EQ(error.find("s3cret"), std::string::npos) << error;
}

TEST(ConfigSecrets, DescribeShowsTheDsnAsLibpqReadsItWithThePasswordHidden) {
  const Config config = load_config({.overrides = {{"postgres.dsn", kUriDsn}}});
  EXPECT_EQ(described(config, "postgres.dsn"), "user=app password=*** dbname=t host=db");
  EXPECT_EQ(described(config, "postgres.dsn_file"), "");
}

TEST(ConfigSecrets, RedisUserWithoutAPasswordIsAnError) {
  const std::string error = load_error({.overrides = {{"redis.user", "sink"}}});
  EXPECT_NE(error.find("redis.user is set but redis.password is not"), std::string::npos) << error;
}

TEST(ConfigSecrets, TheRedactorHidesEverySecretInEffect) {
  const Config config = load_config({.overrides = {{"postgres.dsn", kKeywordDsn},
                                                   {"redis.password", "r3dis pw"},
                                                   {"kafka.properties.sasl.password", "k4fka'pw"},
                                                   {"kafka.properties.sasl.username", "svc"}}});
  const Redactor redactor = redactor_for(config);
  EXPECT_EQ(redactor.redact(std::string("a ") + kPassword + " b"), "a *** b");
  EXPECT_EQ(redactor.redact(kUriDsn), "postgresql://app:***@db/t");
  EXPECT_EQ(redactor.redact("AUTH r3dis pw; sasl k4fka\\'pw as svc"), "AUTH ***; sasl *** as svc");
}

TEST(ConfigSecrets, AConfigWithoutSecretsRedactsNothing) {
  EXPECT_TRUE(redactor_for(load_config({})).empty());
}

}  // namespace
}  // namespace tastesync
