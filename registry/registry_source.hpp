#pragma once

#include <memory>
#include <string>

#include "stages/registry.hpp"

namespace tastesync {

// The registry the embedded default uses: registry/default_registry.json, compiled in so the
// binary runs from any directory.
std::shared_ptr<const Registry> builtin_registry();

// `source` is registry.source: "" for the built-in registry, else a JSON file in the fixtures'
// format. Throws ConfigError naming registry.source and what is wrong with the file.
std::shared_ptr<const Registry> load_registry(const std::string& source);

}  // namespace tastesync
