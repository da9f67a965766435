// The dev broker's create-topic requests come from a topic any client may write to: only a
// well-formed line with a legal topic name and a sane partition count is acted on.
#include "kafka/topic_admin.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tastesync {
namespace {

TEST(DevBrokerCreateCommand, AWellFormedLineNamesTheTopicAndItsPartitions) {
  const auto command = parse_create_command("create-topic myapp-state-changelog 24");
  ASSERT_TRUE(command);
  EXPECT_EQ(command->first, "myapp-state-changelog");
  EXPECT_EQ(command->second, 24);
}

TEST(DevBrokerCreateCommand, AnythingElseIsIgnored) {
  for (const std::string& line :
       std::vector<std::string>{"",
                                "create-topic",
                                "create-topic ",
                                "create-topic x",
                                "create-topic x ",
                                "create-topic  x 6",
                                "create-topicx 6",
                                "delete-topic x 6",
                                "create-topic x 0",
                                "create-topic x -1",
                                "create-topic x 10001",
                                "create-topic x 6 7",
                                "create-topic x 6\n",
                                "create-topic x 99999999999",
                                "create-topic ../x 6",
                                "create-topic a/b 6",
                                "create-topic . 6",
                                "create-topic .. 6",
                                std::string("create-topic a\0b 6", 18),
                                "create-topic " + std::string(250, 'a') + " 6"}) {
    EXPECT_FALSE(parse_create_command(line)) << "'" << line << "'";
  }
  EXPECT_TRUE(parse_create_command("create-topic " + std::string(249, 'a') + " 6"));
}

}  // namespace
}  // namespace tastesync
