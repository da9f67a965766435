#pragma once

#include <string>

#include "tastesync/v1/customer_id.pb.h"

namespace tastesync {

// The Sighting v1 JSON value (docs/contract.md#sighting) of a gRPC Sighting: a field the caller
// set is written, one it left out is absent, so the parse stage judges a call exactly as it
// judges a record, and the record produced to raw-beacons is this text.
std::string sighting_json(const v1::Sighting& sighting);

}  // namespace tastesync
