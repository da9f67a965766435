#pragma once

// The fixture of the two location models' tests (stages/score_test.cpp for Scorer,
// stages/location_filter_test.cpp for LocationFilter): readings of store100's beacons for one
// customer, scored by the model. Tests only.

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "stages/resolve.hpp"
#include "stages/score.hpp"
#include "stages/stages_test_support.hpp"

namespace tastesync::stage_testing {

template <typename Model>
class ScoringTest : public ::testing::Test {
 protected:
  // A reading of store100's beacon with this minor (1 entrance, 11..16 tables, 20 counter).
  static Sighting reading(std::uint16_t minor, int rssi, EpochMs t_ms,
                          std::optional<int> tx_power = std::nullopt,
                          std::string_view platform = {}) {
    Sighting sighting;
    sighting.sighting_id = "s";
    sighting.customer_id = "cust";
    sighting.beacon.uuid = *parse_uuid("550e8400-e29b-41d4-a716-446655440000");
    sighting.beacon.major = 100;
    sighting.beacon.minor = minor;
    sighting.beacon.rssi_dbm = rssi;
    sighting.beacon.tx_power_dbm = tx_power;
    sighting.detected_at_ms = t_ms;
    sighting.platform = platform;
    return sighting;
  }

  // The reading, scored by the model.
  Result<Identification, DropReason> hear(std::uint16_t minor, int rssi, EpochMs t_ms,
                                          std::optional<int> tx_power = std::nullopt,
                                          std::string_view platform = {}) {
    const Sighting sighting = reading(minor, rssi, t_ms, tx_power, platform);
    const auto resolved = Resolver(registry_).resolve(sighting);
    EXPECT_TRUE(resolved.ok());
    state_.last_activity_ms = std::max(state_.last_activity_ms, t_ms);
    return model_.score_beacon(state_, sighting, *resolved, *registry_);
  }

  // What dedupe records when an identification is emitted: the current location.
  void emitted(const Identification& identification, EpochMs t_ms) {
    state_.last_emitted =
        LastIdentification{identification.location->store_id, identification.location->name, t_ms};
  }

  // Readings of two beacons once a second, `seconds` long; returns the identifications.
  std::vector<std::string> alternate(std::uint16_t a, int rssi_a, std::uint16_t b, int rssi_b,
                                     EpochMs start_ms, int seconds) {
    std::vector<std::string> identified;
    for (int s = 0; s < seconds; ++s) {
      for (const auto& [minor, rssi, offset] :
           {std::tuple{a, rssi_a, 0}, std::tuple{b, rssi_b, 300}}) {
        const EpochMs t = start_ms + s * 1000 + offset;
        const auto result = hear(minor, rssi, t);
        if (result.ok()) {
          identified.push_back(result->location->name);
          emitted(*result, t);
        }
      }
    }
    return identified;
  }

  std::shared_ptr<const Registry> registry_ = fixture_registry();
  Model model_;
  CustomerState state_;
};

}  // namespace tastesync::stage_testing
