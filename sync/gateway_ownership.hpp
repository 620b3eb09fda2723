#pragma once
// A gateway owns its name (§5): the remote `gateways` row records the instance_id of the local
// store that first uploaded under that name. Another store (a second device configured with the
// same name, or a re-flashed card) is refused until an operator adopts the name.
// Functions use the PgConnection from the calling thread only.

#include <optional>
#include <string>

#include "core/expected.hpp"
#include "sync/pg_connection.hpp"

namespace fieldsync::sync {

// The instance_id on the gateways row of `gateway`; nullopt when there is no row or it is NULL.
core::Expected<std::optional<std::string>> RemoteGatewayOwner(PgConnection& conn,
                                                              const std::string& schema,
                                                              const std::string& gateway);

// kConflict with the operator's way out when another instance owns `gateway`.
core::Error OwnershipConflict(const std::string& gateway, const std::string& owner);

// Ok when `gateway` is unclaimed or owned by `instance_id`; kConflict otherwise. Read-only.
core::Status CheckGatewayOwnership(PgConnection& conn, const std::string& schema,
                                   const std::string& gateway, const std::string& instance_id);

// `remote adopt`: sets the row's instance_id to `instance_id` (creating the row if needed), in
// one statement. Returns the previous owner, if any.
core::Expected<std::optional<std::string>> AdoptGateway(PgConnection& conn,
                                                        const std::string& schema,
                                                        const std::string& gateway,
                                                        const std::string& instance_id);

}  // namespace fieldsync::sync
