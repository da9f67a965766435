#include "registry/registry_source.hpp"

#include <fstream>
#include <sstream>

#include "common/config_error.hpp"

namespace tastesync {

extern const char* const kDefaultRegistryJson;

std::shared_ptr<const Registry> builtin_registry() {
  auto registry = Registry::from_json(kDefaultRegistryJson);
  if (!registry) throw ConfigError("the built-in registry is invalid: " + registry.error());
  return *registry;
}

std::shared_ptr<const Registry> load_registry(const std::string& source) {
  if (source.empty()) return builtin_registry();
  std::ifstream file(source, std::ios::binary);
  if (!file) throw ConfigError("registry.source: cannot read '" + source + "'");
  std::ostringstream text;
  text << file.rdbuf();
  auto registry = Registry::from_json(text.str());
  if (!registry) throw ConfigError("registry.source '" + source + "': " + registry.error());
  return *registry;
}

}  // namespace tastesync
