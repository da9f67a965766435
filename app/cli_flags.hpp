#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "app/commands.hpp"

namespace tastesync {

// A flag that, when given, sets one configuration key (flags sit on top of file and environment).
inline void key_flag(CLI::App& app, RunArguments& arguments, const std::string& flag,
                     const std::string& key, const std::string& help) {
  app.add_option_function<std::string>(
         flag,
         [&arguments, key](const std::string& value) {
           arguments.overrides.emplace_back(key, value);
         },
         help + " (config key " + key + ")")
      // Given twice, the last one counts (as with the layers below it).
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
}

}  // namespace tastesync
