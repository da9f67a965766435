#include "sinks/event/sink_event.hpp"

#include <gtest/gtest.h>

#include <string>

namespace tastesync {
namespace {

// The example event of docs/contract.md#customer-identified.
const std::string kBeaconEvent = R"({
  "event_id": "10ef298c-1c10-55df-9149-b492e3cf5787",
  "event_type": "CustomerIdentified",
  "timestamp": "2025-03-02T12:00:00.140Z",
  "version": "v1",
  "data": {
    "customer_id": "cust123",
    "location": "Table 3",
    "confidence": 0.95,
    "beacon": { "uuid": "550e8400-e29b-41d4-a716-446655440000", "major": 100, "minor": 13, "rssi": -50 },
    "detected_at": "2025-03-02T12:00:00.123Z",
    "store_id": "store100",
    "location_type": "table",
    "source": "beacon",
    "beacon_id": "bc0c82d4-d881-5fe0-a68c-3ed7c3562715",
    "sighting_id": "0b7c7f4e-4b8e-4a51-9d0c-2f1f5d3e9a10",
    "identification": "arrival"
  }
})";

const std::string kQrEvent = R"({"event_id":"20ef298c-1c10-55df-9149-b492e3cf5787",
  "event_type":"CustomerIdentified","timestamp":"2025-03-02T12:00:00.140Z","version":"v1",
  "data":{"customer_id":"cust9","location":"Counter","confidence":1,"detected_at":"2025-03-02T12:00:00Z",
  "store_id":"store100","location_type":"counter","source":"qr","qr_code":"TS-1",
  "sighting_id":"s1","identification":"move"}})";

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

TEST(SinkEventTest, ReadsEveryFieldOfABeaconEvent) {
  SinkEventParser parser;
  auto event = parser.parse(kBeaconEvent);
  ASSERT_TRUE(event) << event.error();
  EXPECT_EQ(event->event_id, "10ef298c-1c10-55df-9149-b492e3cf5787");
  EXPECT_EQ(event->customer_id, "cust123");
  EXPECT_EQ(event->store_id, "store100");
  EXPECT_EQ(event->location, "Table 3");
  EXPECT_EQ(event->location_type, "table");
  EXPECT_EQ(event->source, "beacon");
  EXPECT_EQ(event->identification, "arrival");
  EXPECT_EQ(event->sighting_id, "0b7c7f4e-4b8e-4a51-9d0c-2f1f5d3e9a10");
  EXPECT_EQ(event->confidence, "0.950");
  EXPECT_EQ(event->detected_at, "2025-03-02T12:00:00.123Z");
  EXPECT_EQ(event->detected_at_ms, 1740916800123);
  EXPECT_EQ(event->beacon_id, "bc0c82d4-d881-5fe0-a68c-3ed7c3562715");
  EXPECT_EQ(event->beacon_uuid, "550e8400-e29b-41d4-a716-446655440000");
  EXPECT_EQ(event->beacon_major, 100);
  EXPECT_EQ(event->beacon_minor, 13);
  EXPECT_FALSE(event->qr_code);
}

TEST(SinkEventTest, ReadsAQrEventAndCanonicalisesItsTime) {
  SinkEventParser parser;
  auto event = parser.parse(kQrEvent);
  ASSERT_TRUE(event) << event.error();
  EXPECT_EQ(event->qr_code, "TS-1");
  EXPECT_FALSE(event->beacon_id);
  EXPECT_EQ(event->confidence, "1.000");
  EXPECT_EQ(event->detected_at, "2025-03-02T12:00:00.000Z");
}

TEST(SinkEventTest, AConfidenceOfMinusZeroIsZero) {
  SinkEventParser parser;
  auto event = parser.parse(replaced(kBeaconEvent, "0.95", "-0.0"));
  ASSERT_TRUE(event) << event.error();
  EXPECT_EQ(event->confidence, "0.000");
}

TEST(SinkEventTest, NamesTheFieldAtFault) {
  SinkEventParser parser;
  const struct {
    std::string json;
    std::string reason;
  } cases[] = {
      {"{", "not JSON"},
      {"[1]", "not a JSON object"},
      {replaced(kBeaconEvent, R"("CustomerIdentified")", R"("Other")"), "'event_type'"},
      {replaced(kBeaconEvent, R"("v1")", R"("v2")"), "'version'"},
      {replaced(kBeaconEvent, R"("cust123")", "7"), "'customer_id'"},
      {replaced(kBeaconEvent, R"("cust123")", R"("")"), "'customer_id' must be"},
      {replaced(kBeaconEvent, "10ef298c-1c10", "10ef298c+1c10"), "'event_id'"},
      {replaced(kBeaconEvent, R"("table")", R"("booth")"), "'location_type'"},
      {replaced(kBeaconEvent, R"("arrival")", R"("hello")"), "'identification'"},
      {replaced(kBeaconEvent, "2025-03-02T12:00:00.123Z", "yesterday"), "'detected_at'"},
      {replaced(kBeaconEvent, "0.95", "1.5"), "'confidence'"},
      {replaced(kBeaconEvent, R"("beacon_id": "bc0c82d4)", R"("beacon_idx": "bc0c82d4)"),
       "'beacon_id'"},
      {replaced(kBeaconEvent, R"("major": 100)", R"("major": 70000)"), "'beacon.major'"},
      {replaced(kBeaconEvent, R"("source": "beacon")", R"("source": "wifi")"), "'source'"},
      {replaced(kQrEvent, R"("qr_code":"TS-1")", R"("qr":"TS-1")"), "'qr_code'"},
  };
  for (const auto& c : cases) {
    auto event = parser.parse(c.json);
    ASSERT_FALSE(event) << c.json;
    EXPECT_NE(event.error().find(c.reason), std::string::npos)
        << "reason '" << event.error() << "' should name " << c.reason;
  }
}

}  // namespace
}  // namespace tastesync
