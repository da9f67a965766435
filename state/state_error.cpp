#include "state/state_error.hpp"

namespace tastesync {

std::string_view state_error_kind_name(StateErrorKind kind) {
  switch (kind) {
    case StateErrorKind::storage:
      return "storage";
    case StateErrorKind::wrong_topic:
      return "wrong_topic";
    case StateErrorKind::malformed:
      return "malformed";
  }
  return "storage";
}

StateError storage_error(std::string_view what, std::string_view cause) {
  return {StateErrorKind::storage, std::string(what) + ": " + std::string(cause)};
}

StateError wrong_topic_error(std::string_view dir, std::string_view recorded,
                             std::string_view wanted) {
  return {StateErrorKind::wrong_topic,
          "state.dir " + std::string(dir) + " holds the state of input topic '" +
              std::string(recorded) + "', not '" + std::string(wanted) +
              "': use another state.dir (or group id) for another topic"};
}

StateError malformed_error(std::string_view what) {
  return {StateErrorKind::malformed, std::string(what)};
}

}  // namespace tastesync
