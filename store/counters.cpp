#include "store/counters.hpp"

namespace fieldsync::store {

core::Status AddInputCounters(Database& db, const std::string& input,
                              const InputCounterDelta& delta) {
  core::Expected<CachedStatement> upsert = db.Cached(
      "INSERT INTO input_counters(input, frames, readings, duplicates, frames_lost, "
      "fields_ignored, last_frame_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) "
      "ON CONFLICT(input) DO UPDATE SET frames = frames + excluded.frames, "
      "readings = readings + excluded.readings, duplicates = duplicates + excluded.duplicates, "
      "frames_lost = frames_lost + excluded.frames_lost, "
      "fields_ignored = fields_ignored + excluded.fields_ignored, "
      "last_frame_at = coalesce(excluded.last_frame_at, last_frame_at)");
  if (!upsert) return upsert.error();
  core::Status status = (*upsert)->Bind(1, input);
  if (status) status = (*upsert)->Bind(2, delta.frames);
  if (status) status = (*upsert)->Bind(3, delta.readings);
  if (status) status = (*upsert)->Bind(4, delta.duplicates);
  if (status) status = (*upsert)->Bind(5, delta.frames_lost);
  if (status) status = (*upsert)->Bind(6, delta.fields_ignored);
  if (status) {
    status =
        delta.last_frame_at ? (*upsert)->Bind(7, *delta.last_frame_at) : (*upsert)->BindNull(7);
  }
  if (status) status = (*upsert)->Run();
  if (!status) return status.error().Wrap("update counters of input " + input);

  for (const auto& [reason, n] : delta.rejected) {
    if (n == 0) continue;
    core::Expected<CachedStatement> add = db.Cached(
        "INSERT INTO input_rejections(input, reason, n) VALUES(?1, ?2, ?3) "
        "ON CONFLICT(input, reason) DO UPDATE SET n = n + excluded.n");
    if (!add) return add.error();
    status = (*add)->Bind(1, input);
    if (status) status = (*add)->Bind(2, reason);
    if (status) status = (*add)->Bind(3, n);
    if (status) status = (*add)->Run();
    if (!status) return status.error().Wrap("count rejections of input " + input);
  }
  return core::Ok();
}

core::Status AddGlobalCounter(Database& db, std::string_view name, std::int64_t delta) {
  if (delta == 0) return core::Ok();
  core::Expected<CachedStatement> add = db.Cached(
      "INSERT INTO counters(name, n) VALUES(?1, ?2) "
      "ON CONFLICT(name) DO UPDATE SET n = n + excluded.n");
  if (!add) return add.error();
  core::Status status = (*add)->Bind(1, name);
  if (status) status = (*add)->Bind(2, delta);
  if (status) status = (*add)->Run();
  if (!status) return status.error().Wrap("update counter " + std::string(name));
  return core::Ok();
}

core::Expected<std::map<std::string, InputCounters>> ReadInputCounters(Database& db) {
  std::map<std::string, InputCounters> inputs;
  core::Expected<CachedStatement> rows = db.Cached(
      "SELECT input, frames, readings, duplicates, frames_lost, fields_ignored, "
      "last_frame_at FROM input_counters");
  if (!rows) return rows.error();
  while (true) {
    core::Expected<bool> row = (*rows)->Step();
    if (!row) return row.error().Wrap("read input counters");
    if (!*row) break;
    InputCounters& c = inputs[(*rows)->ColumnText(0)];
    c.frames = (*rows)->ColumnInt64(1);
    c.readings = (*rows)->ColumnInt64(2);
    c.duplicates = (*rows)->ColumnInt64(3);
    c.frames_lost = (*rows)->ColumnInt64(4);
    c.fields_ignored = (*rows)->ColumnInt64(5);
    if (!(*rows)->ColumnIsNull(6)) c.last_frame_at = (*rows)->ColumnInt64(6);
  }
  core::Expected<CachedStatement> rejections =
      db.Cached("SELECT input, reason, n FROM input_rejections");
  if (!rejections) return rejections.error();
  while (true) {
    core::Expected<bool> row = (*rejections)->Step();
    if (!row) return row.error().Wrap("read rejection counters");
    if (!*row) break;
    inputs[(*rejections)->ColumnText(0)].rejected[(*rejections)->ColumnText(1)] =
        (*rejections)->ColumnInt64(2);
  }
  return inputs;
}

core::Expected<std::map<std::string, std::int64_t>> ReadGlobalCounters(Database& db) {
  std::map<std::string, std::int64_t> counters;
  core::Expected<CachedStatement> rows = db.Cached("SELECT name, n FROM counters");
  if (!rows) return rows.error();
  while (true) {
    core::Expected<bool> row = (*rows)->Step();
    if (!row) return row.error().Wrap("read counters");
    if (!*row) break;
    counters[(*rows)->ColumnText(0)] = (*rows)->ColumnInt64(1);
  }
  return counters;
}

}  // namespace fieldsync::store
