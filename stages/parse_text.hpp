#pragma once

#include <simdjson.h>

#include <cstddef>
#include <string>
#include <string_view>

// Text helpers of the parse stage: UTF-8 facts about validated strings, and the wording of error
// messages (which travel as the DLQ's dlq.error.message header and into logs).
namespace tastesync::parse_text {

// Code points of a valid UTF-8 string (simdjson validated it).
std::size_t count_code_points(std::string_view text);

// C0 (U+0000-U+001F), DEL (U+007F) or C1 (U+0080-U+009F) anywhere in `text`.
bool has_control_character(std::string_view text);

// A value repeated inside an error message: quoted, control characters escaped, at most 64
// bytes, cut at a code point boundary.
std::string quoted(std::string_view text);

// "a string", "an integer", ... for messages.
std::string_view type_name(simdjson::dom::element value);

// "<path>: expected <expected>, got <type>".
std::string wrong_type(std::string_view path, std::string_view expected,
                       simdjson::dom::element value);

}  // namespace tastesync::parse_text
