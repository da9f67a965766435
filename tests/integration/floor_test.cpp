// Issue 16, item 2: the live floor view (docs/contract.md#floor) of a running `tastesync run`,
// over plain HTTP: the page, and its Server-Sent Events following a customer to a table, to
// another, and off the floor after the presence timeout.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <regex>
#include <sstream>

#include "tests/support/broker_test.hpp"
#include "tests/support/free_port.hpp"
#include "tests/support/http_client.hpp"

namespace tastesync::testing {
namespace {

// /floor/events as a browser's EventSource reads it.
class EventStream {
 public:
  EventStream(int port, const std::string& path) : connection_(port) {
    connection_.send("GET " + path +
                     " HTTP/1.1\r\nHost: localhost\r\nAccept: text/event-stream\r\n\r\n");
  }
  // Reads until the latest snapshot satisfies `done`; false after `timeout` or a closed stream.
  bool read_until(const std::function<bool(const std::string&)>& done,
                  std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      const auto received = connection_.receive_until_closed(std::chrono::milliseconds(200));
      text_ += received.bytes;
      if (done(latest())) return true;
      if (received.closed) return false;
    }
    return false;
  }
  // The last complete `data:` line's JSON.
  std::string latest() const {
    const std::size_t end = text_.rfind("\n\n");
    if (end == std::string::npos) return "";
    const std::size_t start = text_.rfind("data: ", end);
    return start == std::string::npos ? "" : text_.substr(start + 6, end - start - 6);
  }
  const std::string& text() const { return text_; }

 private:
  LoopbackConnection connection_;
  std::string text_;
};

// Whether the snapshot has `customer` at `location`.
bool at(const std::string& snapshot, const std::string& customer, const std::string& location) {
  return std::regex_search(
      snapshot, std::regex(R"(\{"name":")" + location +
                           R"(","type":"[a-z]+","customers":\[[^\]]*"id":")" + customer + "\""));
}

// An executable named `name` on PATH, or "".
std::string on_path(const std::string& name) {
  std::stringstream path(std::getenv("PATH") != nullptr ? std::getenv("PATH") : "");
  for (std::string dir; std::getline(path, dir, ':');) {
    const std::filesystem::path candidate = std::filesystem::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

// The wall-clock time at which tests/browser/floor_view.mjs first printed a `shown` list that
// satisfies `seen`, or nullopt.
std::optional<std::int64_t> shown_at(const std::string& observer_output,
                                     const std::function<bool(const std::string&)>& seen) {
  static const std::regex line(R"(\{"at_ms":([0-9]+),"shown":(.*)\})");
  std::stringstream lines(observer_output);
  for (std::string text; std::getline(lines, text);) {
    std::smatch match;
    if (std::regex_match(text, match, line) && seen(match[2].str())) {
      return std::stoll(match[1].str());
    }
  }
  return std::nullopt;
}

class Floor : public BrokerTest {
 protected:
  // A broker and `tastesync run` on it with its HTTP port at `port_`, ready (the floor is
  // attached by then).
  std::unique_ptr<PipelineProcess> start_ready(const std::string& state,
                                               std::vector<std::string> arguments,
                                               const Environment& environment) {
    start_broker();
    port_ = free_loopback_port();
    PipelineOptions options = pipeline_options("pipeline", state);
    arguments.insert(arguments.begin(), {"--metrics-port", std::to_string(port_)});
    options.extra_arguments = std::move(arguments);
    options.environment = environment;
    auto pipeline = start_pipeline(options);
    const bool ready = wait_until(
        [&] {
          const auto answer = http_request(port_, "/readyz");
          return answer && answer->status == 200;
        },
        kOutputTimeout);
    EXPECT_TRUE(ready) << pipeline->process().stderr_text();
    return pipeline;
  }

  int port_ = 0;
};

const Environment kShortPresence = {{"TASTESYNC_FLOOR__PRESENCE_TIMEOUT_MS", "3000"}};

TEST_F(Floor, FollowsACustomerToATableToAnotherAndOffTheFloor) {
  auto pipeline = start_ready("floor", {}, kShortPresence);
  ASSERT_FALSE(HasFailure());
  const int port = port_;

  const auto page = http_request(port, "/floor");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->header("Content-Type").value_or(""), "text/html; charset=utf-8");
  EXPECT_NE(page->body.find("new EventSource(\"/floor/events\""), std::string::npos);
  EXPECT_EQ(page->body.find("http"), std::string::npos) << "the page loads nothing from outside";

  EventStream stream(port, "/floor/events?store=store100");
  // Every location of the store from the registry, nobody there yet.
  ASSERT_TRUE(stream.read_until(
      [](const std::string& s) { return s.find(R"("name":"Table 3")") != std::string::npos; },
      kOutputTimeout))
      << stream.text();
  EXPECT_EQ(stream.latest().find("store200"), std::string::npos) << "only the store asked for";

  TopicReader events(brokers(), "customer-events");
  const auto seated = produce_until_identified(
      events,
      [](int i) {
        return beacon_sighting("t3-" + std::to_string(i), "floor-guest", 13, kT0 + i * 1000);
      },
      kOutputTimeout);
  ASSERT_TRUE(seated);
  ASSERT_TRUE(
      stream.read_until([](const std::string& s) { return at(s, "floor-guest", "Table 3"); },
                        std::chrono::seconds(5)))
      << stream.latest();

  const auto moved = produce_until_identified(
      events,
      [](int i) {
        return beacon_sighting("t4-" + std::to_string(i), "floor-guest", 14,
                               kT0 + 60000 + i * 1000);
      },
      kOutputTimeout);
  ASSERT_TRUE(moved);
  ASSERT_TRUE(stream.read_until(
      [](const std::string& s) {
        return at(s, "floor-guest", "Table 4") && !at(s, "floor-guest", "Table 3");
      },
      std::chrono::seconds(5)))
      << stream.latest();

  // Nothing more from them: gone after the presence timeout (3 s here).
  ASSERT_TRUE(stream.read_until(
      [](const std::string& s) { return !s.empty() && s.find("floor-guest") == std::string::npos; },
      std::chrono::seconds(10)))
      << stream.latest();
  EXPECT_TRUE(pipeline->stop().exited_with(0));
}

TEST_F(Floor, TheTokenGuardsThePageAndItsEventsAndIdsCanBeMasked) {
  auto pipeline = start_ready("floor-token", {"--floor-mask-ids"},
                              {{"TASTESYNC_METRICS__TOKEN", "floor-secret-token"}});
  ASSERT_FALSE(HasFailure());
  const int port = port_;

  EXPECT_EQ(http_request(port, "/floor")->status, 401);
  EXPECT_EQ(http_request(port, "/floor/events")->status, 401);
  EXPECT_EQ(http_request(port, "/floor?token=wrong")->status, 401);
  EXPECT_EQ(http_request(port, "/floor?token=floor-secret-token")->status, 200);
  EXPECT_EQ(http_request(port, "/floor", {"Authorization: Bearer floor-secret-token"})->status,
            200);

  TopicReader events(brokers(), "customer-events");
  ASSERT_TRUE(produce_until_identified(
      events,
      [](int i) {
        return beacon_sighting("m-" + std::to_string(i), "masked-guest", 13, kT0 + i * 1000);
      },
      kOutputTimeout));
  EventStream stream(port, "/floor/events?token=floor-secret-token");
  ASSERT_TRUE(stream.read_until(
      [](const std::string& s) { return s.find("ma\u2022\u2022\u2022st") != std::string::npos; },
      std::chrono::seconds(10)))
      << stream.text();
  EXPECT_EQ(stream.text().find("masked-guest"), std::string::npos);
  EXPECT_TRUE(pipeline->stop().exited_with(0));
}

TEST_F(Floor, InAHeadlessChromiumTheCustomerAppearsMovesAndLeavesWithoutAReload) {
  const std::string node = on_path("node");
  const std::string observer = std::string(TASTESYNC_BROWSER_DIR) + "/floor_view.mjs";
  ASSERT_FALSE(node.empty()) << "node is not on PATH";
  ASSERT_TRUE(
      std::filesystem::exists(std::string(TASTESYNC_BROWSER_DIR) + "/node_modules/puppeteer-core"))
      << "puppeteer-core is missing: scripts/install-deps.sh runs npm ci in tests/browser";
  auto pipeline = start_ready("floor-browser", {}, kShortPresence);
  ASSERT_FALSE(HasFailure());
  const int port = port_;

  const std::filesystem::path screenshot = dir() / "floor.png";
  Subprocess browser(
      {node, observer, "http://127.0.0.1:" + std::to_string(port) + "/floor?store=store100",
       screenshot.string()},
      dir(), "chromium");
  struct Closer {
    Subprocess& browser;
    ~Closer() { (void)browser.terminate(std::chrono::seconds(10)); }
  } closer{browser};
  // The page is up and drawn (an empty floor) before anyone sits down.
  ASSERT_TRUE(wait_until(
      [&] { return shown_at(browser.stdout_text(), [](auto&) { return true; }); }, kOutputTimeout))
      << browser.stderr_text();

  const auto at_table = [](const std::string& table) {
    return [table](const std::string& shown) {
      return shown == R"([["store100",")" + table + R"(","floor-guest"]])";
    };
  };
  TopicReader events(brokers(), "customer-events");
  ASSERT_TRUE(produce_until_identified(
      events,
      [](int i) {
        return beacon_sighting("b3-" + std::to_string(i), "floor-guest", 13, kT0 + i * 1000);
      },
      kOutputTimeout));
  const std::int64_t seated_ms = wall_clock_ms();
  // The issue's bound: at the right table within two seconds of the event.
  ASSERT_TRUE(wait_until([&] { return shown_at(browser.stdout_text(), at_table("Table 3")); },
                         std::chrono::seconds(2)))
      << browser.stdout_text();
  const std::int64_t shown_seated_ms = *shown_at(browser.stdout_text(), at_table("Table 3"));

  ASSERT_TRUE(produce_until_identified(
      events,
      [](int i) {
        return beacon_sighting("b4-" + std::to_string(i), "floor-guest", 14,
                               kT0 + 60000 + i * 1000);
      },
      kOutputTimeout));
  const std::int64_t moved_ms = wall_clock_ms();
  ASSERT_TRUE(wait_until([&] { return shown_at(browser.stdout_text(), at_table("Table 4")); },
                         std::chrono::seconds(2)))
      << browser.stdout_text();
  const std::int64_t shown_moved_ms = *shown_at(browser.stdout_text(), at_table("Table 4"));

  // Silent for the presence timeout (3 s): off the page, after having been at Table 4.
  const auto gone = [&] {
    const std::string lines = browser.stdout_text();
    const std::size_t empty = lines.rfind(R"("shown":[])");
    return empty != std::string::npos && empty > lines.find("Table 4");
  };
  ASSERT_TRUE(wait_until(gone, std::chrono::seconds(10))) << browser.stdout_text();
  // Reported, not asserted beyond the issue's bound.
  std::cout << "[ floor    ] seated shown " << shown_seated_ms - seated_ms << " ms, moved shown "
            << shown_moved_ms - moved_ms << " ms after the test read the event\n";
  EXPECT_TRUE(std::filesystem::exists(screenshot));
  EXPECT_TRUE(pipeline->stop().exited_with(0));
}

}  // namespace
}  // namespace tastesync::testing
