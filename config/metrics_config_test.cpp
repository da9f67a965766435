// metrics.*: where the HTTP server listens and the bearer token that guards /metrics.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "config/config.hpp"
#include "config/config_test_support.hpp"

namespace tastesync {
namespace {

using config_testing::described;
using config_testing::load_error;

class MetricsTokenFile : public config_testing::ConfigDirTest {
 protected:
  std::string write_token_file(const std::string& content) const { return write("token", content); }

  static ConfigSources from_file(const std::string& path) {
    return {.overrides = {{"metrics.token_file", path}}};
  }
};

TEST(MetricsConfig, ListensOnLoopbackWithoutATokenByDefault) {
  const Config config = load_config({});
  EXPECT_EQ(config.metrics.bind_address, "127.0.0.1");
  EXPECT_EQ(config.metrics.token, "");
}

TEST(MetricsConfig, TheTokenIsRedactedWhereTheConfigIsDescribed) {
  const Config config =
      load_config({.environment = {{"TASTESYNC_METRICS__TOKEN", "tok-from-the-environment"}}});
  EXPECT_EQ(config.metrics.token, "tok-from-the-environment");
  EXPECT_EQ(described(config, "metrics.token"), "***");
}

TEST(MetricsConfig, ATokenWithASpaceIsAnErrorThatDoesNotShowIt) {
  const std::string error = load_error({.overrides = {{"metrics.token", "almost right"}}});
  EXPECT_NE(error.find("metrics.token: "), std::string::npos) << error;
  EXPECT_NE(error.find("visible ASCII"), std::string::npos) << error;
  EXPECT_EQ(error.find("almost"), std::string::npos) << error;
}

TEST(MetricsConfig, ATokenLongerThanFourKilobytesIsAnError) {
  EXPECT_EQ(load_error({.overrides = {{"metrics.token", std::string(4096, 'x')}}}), "");
  const std::string error = load_error({.overrides = {{"metrics.token", std::string(4097, 'x')}}});
  EXPECT_NE(error.find("longer than 4096 bytes"), std::string::npos) << error;
  EXPECT_EQ(error.find("xxxx"), std::string::npos) << error;
}

TEST_F(MetricsTokenFile, TheTokenIsReadWithoutItsTrailingLineBreak) {
  EXPECT_EQ(load_config(from_file(write_token_file("tok-in-a-file\n"))).metrics.token,
            "tok-in-a-file");
  EXPECT_EQ(load_config(from_file(write_token_file("tok-in-a-file\r\n"))).metrics.token,
            "tok-in-a-file");
  EXPECT_EQ(load_config(from_file(write_token_file("tok-in-a-file"))).metrics.token,
            "tok-in-a-file");
}

TEST_F(MetricsTokenFile, OnlyOneLineBreakIsPartOfTheFileNotTheToken) {
  const std::string error = load_error(from_file(write_token_file("tok-in-a-file\n\n")));
  EXPECT_NE(error.find("metrics.token_file"), std::string::npos) << error;
  EXPECT_EQ(error.find("tok-in-a-file"), std::string::npos) << error;
}

TEST_F(MetricsTokenFile, ThePathIsDescribedAndTheTokenRedacted) {
  const std::string path = write_token_file("tok-in-a-file\n");
  const Config config = load_config(from_file(path));
  EXPECT_EQ(described(config, "metrics.token_file"), path);
  EXPECT_EQ(described(config, "metrics.token"), "***");
}

TEST_F(MetricsTokenFile, TokenAndTokenFileBothSetIsAnErrorShowingNeither) {
  const std::string error =
      load_error({.overrides = {{"metrics.token", "tok-inline"},
                                {"metrics.token_file", write_token_file("tok-in-file")}}});
  EXPECT_NE(error.find("metrics.token and metrics.token_file are both set"), std::string::npos)
      << error;
  EXPECT_EQ(error.find("tok-inline"), std::string::npos) << error;
  EXPECT_EQ(error.find("tok-in-file"), std::string::npos) << error;
}

TEST_F(MetricsTokenFile, AMissingFileIsAnErrorNamingTheKey) {
  const std::string path = (dir_ / "absent").string();
  EXPECT_EQ(load_error(from_file(path)),
            "metrics.token_file: cannot open " + path + ": No such file or directory");
}

TEST_F(MetricsTokenFile, ADirectoryIsAnErrorNamingTheKey) {
  EXPECT_EQ(load_error(from_file(dir_.string())),
            "metrics.token_file: " + dir_.string() + " is a directory, not a file");
}

TEST_F(MetricsTokenFile, AnEmptyFileIsAnError) {
  for (const char* content : {"", "\n"}) {
    const std::string path = write_token_file(content);
    EXPECT_EQ(load_error(from_file(path)), "metrics.token_file: " + path + " is empty");
  }
}

TEST_F(MetricsTokenFile, AFileLargerThanATokenIsAnErrorShowingNoneOfIt) {
  const std::string path = write_token_file("needle" + std::string(1 << 20, 'x'));
  const std::string error = load_error(from_file(path));
  // The generic secret-file reader stops at 64 KiB; shorter files still meet the token's limit.
  EXPECT_EQ(error,
            "metrics.token_file: " + path + " is larger than 65536 bytes, too large for a secret");
  const std::string long_token = write_token_file(std::string(5000, 'x'));
  EXPECT_NE(load_error(from_file(long_token)).find("longer than 4096 bytes"), std::string::npos);
}

TEST_F(MetricsTokenFile, ATokenWithAControlCharacterIsAnErrorNamingTheFile) {
  const std::string error = load_error(from_file(write_token_file("tok\tin-a-file\n")));
  EXPECT_NE(error.find("metrics.token: "), std::string::npos) << error;
  EXPECT_NE(error.find("read from metrics.token_file"), std::string::npos) << error;
  EXPECT_EQ(error.find("in-a-file"), std::string::npos) << error;
}

}  // namespace
}  // namespace tastesync
