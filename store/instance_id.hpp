#pragma once
// A store's instance_id (§5): 128 random bits from /dev/urandom as UUID version 4 text, created
// once with a fresh store so that the remote can tell two gateways' outboxes apart.

#include <string>

#include "core/expected.hpp"

namespace fieldsync::store {

// "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" in lower-case hex; kIo when /dev/urandom fails.
core::Expected<std::string> NewInstanceId();

}  // namespace fieldsync::store
