#include "tools/sim/settings.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <utility>

namespace tastesync::sim {
namespace {

TEST(Settings, NamedSettingsAreTheIssues) {
  const SimSettings quiet = *named_setting("quiet");
  const SimSettings busy = *named_setting("busy");
  const SimSettings noisy = *named_setting("noisy");
  EXPECT_DOUBLE_EQ(quiet.radio.sigma_db, 4.0);
  EXPECT_DOUBLE_EQ(quiet.radio.blocking_per_min, 0.0);
  EXPECT_DOUBLE_EQ(busy.radio.sigma_db, 6.0);
  EXPECT_GT(busy.customers, quiet.customers);
  EXPECT_LT(busy.radio.detect_near, quiet.radio.detect_near);
  EXPECT_DOUBLE_EQ(noisy.radio.sigma_db, 8.0);
  EXPECT_GT(noisy.radio.blocking_per_min, 0.0);
  EXPECT_FALSE(named_setting("loud").has_value());
  for (const std::string_view name : setting_names()) {
    EXPECT_FALSE(validate(*named_setting(name)).has_value()) << name;
  }
}

TEST(Settings, FloorSettingsAreIssue14s) {
  for (const auto& [name, sigma] : {std::pair{"floor5", 5.0}, std::pair{"floor8", 8.0}}) {
    const SimSettings floor = *named_setting(name);
    EXPECT_EQ(floor.customers, 150) << name;
    EXPECT_DOUBLE_EQ(floor.radio.sigma_db, sigma) << name;
    EXPECT_GT(floor.radio.blocking_per_min, 0.0) << name;
    EXPECT_DOUBLE_EQ(floor.phone.offset_uniform_db, 6.0) << name;
    EXPECT_DOUBLE_EQ(floor.phone.detect_near_min, 0.50) << name;
    EXPECT_DOUBLE_EQ(floor.phone.detect_near_max, 0.85) << name;
    EXPECT_DOUBLE_EQ(floor.visit.table_seat_max_m, 1.0) << name;
    EXPECT_DOUBLE_EQ(floor.install.tx_power_error_db, 0.0) << name;
    EXPECT_DOUBLE_EQ(floor.install.qr_share, 0.0) << name;
  }
}

TEST(Settings, PerPhoneDetectionNeedsAPositiveMinimum) {
  SimSettings settings;
  settings.phone.detect_near_max = 0.8;
  EXPECT_EQ(validate(settings), "--detect-near-min must be above 0 when --detect-near-max is set");
  settings.phone.detect_near_min = 0.9;
  EXPECT_EQ(validate(settings), "--detect-near-min must not exceed --detect-near-max");
}

TEST(Settings, ModelsHaveNames) {
  EXPECT_EQ(model_named("nearest"), Model::nearest);
  EXPECT_EQ(model_name(*model_named("stages")), "stages");
  EXPECT_FALSE(model_named("loudest").has_value());
}

TEST(Settings, EveryKnobSetsItsField) {
  for (const Knob& knob : knobs()) {
    SimSettings settings = *named_setting("quiet");
    const double value = knob.min + 0.25 * (std::min(knob.max, knob.min + 10.0) - knob.min);
    EXPECT_FALSE(set_knob(settings, knob.flag, value).has_value()) << knob.flag;
    EXPECT_DOUBLE_EQ(knob_value(settings, knob), value) << knob.flag;
  }
}

TEST(Settings, KnobOutOfRangeNamesTheFlagAndRange) {
  SimSettings settings;
  EXPECT_EQ(set_knob(settings, "sigma", 21.0), "--sigma: must be in 0..20");
  EXPECT_EQ(set_knob(settings, "sigmaa", 1.0), "--sigmaa: no such setting");
}

TEST(Settings, MinimumAboveMaximumNamesBothFlags) {
  SimSettings settings;
  settings.visit.table_min_s = 700.0;
  EXPECT_EQ(validate(settings), "--table-min-s must not exceed --table-max-s");
}

}  // namespace
}  // namespace tastesync::sim
