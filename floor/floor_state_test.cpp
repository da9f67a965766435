// The floor view's state (docs/contract.md#floor): who is where from the delivered events, the
// presence timeout, masking, and the snapshot the page draws.
#include "floor/floor_state.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace tastesync {
namespace {

std::string event(const std::string& customer, const std::string& location, const std::string& type,
                  const std::string& identification,
                  const std::string& detected_at = "2026-12-05T12:00:00.000Z") {
  return R"({"event_id":"e","event_type":"CustomerIdentified","version":"v1","data":{)"
         R"("customer_id":")" +
         customer + R"(","location":")" + location +
         R"(","store_id":"store100","location_type":")" + type + R"(","detected_at":")" +
         detected_at + R"(","identification":")" + identification + R"("}})";
}

FloorState floor_of(bool mask = false) {
  return FloorState({{"store100", "Entrance", "entrance"},
                     {"store100", "Table 3", "table"},
                     {"store200", "Counter", "counter"}},
                    std::chrono::milliseconds(3000), mask);
}

TEST(FloorState, EveryRegistryLocationIsShownEvenEmpty) {
  const FloorState floor = floor_of();
  EXPECT_EQ(
      floor.snapshot_json(""),
      R"({"version":1,"stores":[{"store_id":"store100","locations":[)"
      R"({"name":"Entrance","type":"entrance","customers":[]},)"
      R"({"name":"Table 3","type":"table","customers":[]}]},)"
      R"({"store_id":"store200","locations":[{"name":"Counter","type":"counter","customers":[]}]}]})");
  EXPECT_EQ(floor.snapshot_json("store200"),
            R"({"version":1,"stores":[{"store_id":"store200","locations":[)"
            R"({"name":"Counter","type":"counter","customers":[]}]}]})");
}

TEST(FloorState, ACustomerIsWhereTheirLatestEventSaysSinceTheyCame) {
  FloorState floor = floor_of();
  floor.apply(event("cust-1", "Entrance", "entrance", "arrival", "2026-12-05T12:00:00.000Z"), 0);
  floor.apply(event("cust-1", "Table 3", "table", "move", "2026-12-05T12:00:10.000Z"), 1000);
  floor.apply(event("cust-1", "Table 3", "table", "still_here", "2026-12-05T12:00:20.000Z"), 2000);
  const std::string snapshot = floor.snapshot_json("store100");
  EXPECT_NE(snapshot.find(R"({"name":"Table 3","type":"table","customers":[{"id":"cust-1",)"
                          R"("since":"2026-12-05T12:00:10.000Z"}]})"),
            std::string::npos)
      << snapshot;
  EXPECT_NE(snapshot.find(R"({"name":"Entrance","type":"entrance","customers":[]})"),
            std::string::npos)
      << snapshot;
  EXPECT_EQ(floor.version(), 3u);  // the arrival and the move; still_here changes nothing
}

// Whatever order they came in, the customers of a location are listed by id, in the snapshot
// and in present().
TEST(FloorState, CustomersAreListedByIdWhateverOrderTheyCameIn) {
  FloorState floor = floor_of();
  for (const char* id : {"cust-9", "cust-1", "cust-5", "cust-10", "cust-3"}) {
    floor.apply(event(id, "Table 3", "table", "arrival"), 0);
  }
  floor.apply(event("cust-7", "Entrance", "entrance", "arrival"), 0);
  const std::string snapshot = floor.snapshot_json("store100");
  EXPECT_NE(snapshot.find(R"({"name":"Table 3","type":"table","customers":[)"
                          R"({"id":"cust-1","since":"2026-12-05T12:00:00.000Z"},)"
                          R"({"id":"cust-10","since":"2026-12-05T12:00:00.000Z"},)"
                          R"({"id":"cust-3","since":"2026-12-05T12:00:00.000Z"},)"
                          R"({"id":"cust-5","since":"2026-12-05T12:00:00.000Z"},)"
                          R"({"id":"cust-9","since":"2026-12-05T12:00:00.000Z"}]})"),
            std::string::npos)
      << snapshot;
  const std::vector<FloorPresence> present = floor.present("store100", 0);
  std::vector<std::string> order;
  for (const FloorPresence& presence : present)
    order.push_back(presence.location + "/" + presence.customer_id);
  EXPECT_EQ(order,
            (std::vector<std::string>{"Entrance/cust-7", "Table 3/cust-1", "Table 3/cust-10",
                                      "Table 3/cust-3", "Table 3/cust-5", "Table 3/cust-9"}));
}

TEST(FloorState, ACustomerSilentPastThePresenceTimeoutLeaves) {
  FloorState floor = floor_of();
  floor.apply(event("cust-1", "Table 3", "table", "arrival"), 1000);
  floor.apply(event("cust-2", "Table 3", "table", "arrival"), 3500);
  floor.expire(4000);  // cust-1 last heard of 3 s ago: still there
  EXPECT_NE(floor.snapshot_json("").find("cust-1"), std::string::npos);
  floor.expire(4001);
  EXPECT_EQ(floor.snapshot_json("").find("cust-1"), std::string::npos);
  EXPECT_NE(floor.snapshot_json("").find("cust-2"), std::string::npos);
  // A still_here keeps a customer on the floor.
  floor.apply(event("cust-2", "Table 3", "table", "still_here"), 6000);
  floor.expire(8000);
  EXPECT_NE(floor.snapshot_json("").find("cust-2"), std::string::npos);
}

TEST(FloorState, MaskedIdsShowTheirEndsOnly) {
  FloorState floor = floor_of(true);
  floor.apply(event("customer-4711", "Table 3", "table", "arrival"), 0);
  const std::string snapshot = floor.snapshot_json("");
  EXPECT_EQ(snapshot.find("customer-4711"), std::string::npos);
  EXPECT_NE(snapshot.find(FloorState::mask("customer-4711")), std::string::npos);
  EXPECT_EQ(FloorState::mask("customer-4711"), "cu\u2022\u2022\u202211");
  EXPECT_EQ(FloorState::mask("abcd"), "\u2022\u2022\u2022");
}

TEST(FloorState, WhatIsNotACustomerIdentifiedEventIsIgnored) {
  FloorState floor = floor_of();
  for (const char* bad : {"", "{", "[]", R"({"data":{}})", R"({"data":{"customer_id":1}})"}) {
    floor.apply(bad, 0);
  }
  EXPECT_EQ(floor.version(), 1u);
}

// Events come from a topic anyone with access can write to (the gRPC follower reads them all).
TEST(FloorState, AnEventWhoseFieldsCannotBeReadIsIgnored) {
  FloorState floor = floor_of();
  const std::string fields =
      R"("store_id":"store100","location":"Table 3","location_type":"table",)"
      R"("detected_at":"2026-12-05T12:00:00.000Z")";
  for (const std::string& bad : {
           std::string("not json"),
           std::string("\0\0\0", 3),
           std::string(R"({"data":[]})"),
           std::string(R"({"data":"cust-1"})"),
           std::string(R"({"data":{"customer_id":"cust-1"}})"),
           std::string(R"({"data":{"customer_id":"cust-1",)") + fields,
           R"({"data":{"customer_id":"\u00zz",)" + fields + "}}",
           R"({"data":{"customer_id":"cust-1,)" + fields + "}}",
           R"({"data":{"customer_id":7,)" + fields + "}}",
           std::string(100000, '['),
       }) {
    floor.apply(bad, 0);
  }
  EXPECT_EQ(floor.version(), 1u);
  // The same fields in a readable event are applied.
  floor.apply(R"({"data":{"customer_id":"cust-1",)" + fields + "}}", 0);
  EXPECT_EQ(floor.version(), 2u);
}

TEST(FloorState, AWaiterWakesOnAChangeAndOnStop) {
  FloorState floor = floor_of();
  const auto now = [] { return std::int64_t{0}; };
  EXPECT_EQ(floor.wait_for_change(0, std::chrono::milliseconds(10), now), 1u);  // news at once
  std::thread applier([&] { floor.apply(event("cust-1", "Table 3", "table", "arrival"), 0); });
  EXPECT_EQ(floor.wait_for_change(1, std::chrono::seconds(10), now), 2u);
  applier.join();
  std::thread stopper([&] { floor.stop(); });
  EXPECT_EQ(floor.wait_for_change(2, std::chrono::seconds(10), now), 2u);
  stopper.join();
  EXPECT_TRUE(floor.stopped());
}

}  // namespace
}  // namespace tastesync
