#include "tools/sim/settings.hpp"

#include <gtest/gtest.h>

#include <algorithm>

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
