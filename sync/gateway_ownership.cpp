#include "sync/gateway_ownership.hpp"

#include "sync/remote_schema.hpp"

namespace fieldsync::sync {

core::Expected<std::optional<std::string>> RemoteGatewayOwner(PgConnection& conn,
                                                              const std::string& schema,
                                                              const std::string& gateway) {
  auto quoted = QuoteSchemaName(schema);
  if (!quoted) return quoted.error();
  auto r =
      conn.Exec("SELECT instance_id FROM " + *quoted + ".gateways WHERE gateway = $1", {gateway});
  if (!r) return r.error();
  if (r->rows() == 0 || r->IsNull(0, 0)) return std::optional<std::string>();
  return std::optional<std::string>(std::string(r->Value(0, 0)));
}

core::Error OwnershipConflict(const std::string& gateway, const std::string& owner) {
  return core::MakeError(
      core::Errc::kConflict,
      "gateway name '" + gateway + "' belongs to another installation (instance " + owner +
          "): two gateways configured with one name, or a re-installed store. Give this "
          "gateway its own name, or run `fieldsync remote adopt` to take the name over");
}

core::Status CheckGatewayOwnership(PgConnection& conn, const std::string& schema,
                                   const std::string& gateway, const std::string& instance_id) {
  auto owner = RemoteGatewayOwner(conn, schema, gateway);
  if (!owner) return owner.error();
  if (*owner && **owner != instance_id) return OwnershipConflict(gateway, **owner);
  return core::Ok();
}

core::Expected<std::optional<std::string>> AdoptGateway(PgConnection& conn,
                                                        const std::string& schema,
                                                        const std::string& gateway,
                                                        const std::string& instance_id) {
  auto quoted = QuoteSchemaName(schema);
  if (!quoted) return quoted.error();
  // The old owner is read under the row lock the upsert keeps until COMMIT.
  if (auto begun = conn.Exec("BEGIN"); !begun) return begun.error();
  auto r = conn.Exec("INSERT INTO " + *quoted +
                         ".gateways (gateway, instance_id) VALUES ($1, NULL) "
                         "ON CONFLICT (gateway) DO UPDATE SET gateway = EXCLUDED.gateway "
                         "RETURNING instance_id",
                     {gateway});
  if (r) {
    auto set = conn.Exec("UPDATE " + *quoted + ".gateways SET instance_id = $2 WHERE gateway = $1",
                         {gateway, instance_id});
    if (!set) r = set.error();
  }
  if (r) {
    if (auto committed = conn.Exec("COMMIT"); !committed) return committed.error();
  } else {
    conn.RollbackQuietly();
  }
  if (!r) return r.error();
  if (r->rows() == 0 || r->IsNull(0, 0)) return std::optional<std::string>();
  return std::optional<std::string>(std::string(r->Value(0, 0)));
}

}  // namespace fieldsync::sync
