#include "cli/clone_command.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/clone_progress.h"
#include "cli/config.h"
#include "cli/signals.h"
#include "clone/clone_marker.h"
#include "db/connection.h"
#include "replication/replica.h"

namespace cutover::cli {
namespace {


// Fills source, target and replication from the config file.
Status ApplyConfig(const Config& config, clone::CloneOptions& options) {
  options.source = config.source->ToEndpoint();
  options.target = config.target->ToEndpoint();
  const ReplicationConfig& r = *config.replication;
  options.replication.user = r.user;
  options.replication.password = r.password;
  options.replication.host = r.source_host.empty() ? config.source->host : r.source_host;
  options.replication.port = r.source_port == 0 ? config.source->port : r.source_port;
  if (options.threads < 1 || options.threads > 64) return Fail(Error::Config("--threads must be between 1 and 64"));
  if (options.chunk_rows < 100) return Fail(Error::Config("--chunk-rows must be at least 100"));
  return {};
}

}  // namespace

int RunCloneCommand(CloneCommandOptions options) {
  auto config = LoadConfig(options.config_path, kCloneNeeds);
  if (!config) {
    fmt::print(stderr, "cutover clone: {}\n", config.error().message());
    return 2;
  }
  if (Status st = ApplyConfig(*config, options.clone); !st) {
    fmt::print(stderr, "cutover clone: {}\n", st.error().message());
    return 2;
  }
  options.clone.catchup_timeout = std::chrono::seconds(options.catchup_timeout_s);
  StopSignals signals;
  CloneProgress progress(ChooseOutputMode(options.json, stdout));
  auto report = clone::RunClone(options.clone, progress, signals.stop());
  if (!report) {
    progress.Failed(report.error());
    return 2;
  }
  progress.Done(*report);
  return 0;
}

int RunReplicationStatus(const ReplicationStatusOptions& options) {
  auto config = LoadConfig(options.config_path, kSourceSection | kTargetSection);
  if (!config) {
    fmt::print(stderr, "cutover replication status: {}\n", config.error().message());
    return 2;
  }
  auto fail = [](const Error& e) {
    fmt::print(stderr, "cutover replication status: {}\n", e.message());
    return 2;
  };
  auto roles = ReadCurrentRoles(*config);
  if (!roles) return fail(roles.error());
  const bool swapped = roles->swapped;
  const ServerConfig& primary = *roles->primary;
  const ServerConfig& replica = *roles->replica;
  if (swapped && !options.json) fmt::print("after the switchover, the target is the primary and the source its replica\n");
  auto source = db::Connection::Connect(primary.ToEndpoint());
  if (!source) return fail(source.error());
  auto target = db::Connection::Connect(replica.ToEndpoint());
  if (!target) return fail(target.error());
  auto status = replication::ReadReplicaStatus(*target);
  if (!status) return fail(status.error());
  auto source_gtid = replication::ReadBinlogGtid(*source);
  if (!source_gtid) return fail(source_gtid.error());
  auto applied = replication::ReadAppliedGtid(*target);
  if (!applied) return fail(applied.error());
  auto incomplete = clone::FindInterruptedClone(*target);
  if (!incomplete) return fail(incomplete.error());
  bool caught_up = false;
  if (status->running()) {
    auto waited = replication::HasApplied(*target, *source_gtid);
    if (!waited) return fail(waited.error());
    caught_up = *waited;
  }
  // Written on the replica directly, not replicated (e.g. a privileged
  // session on an old primary after a switchover): its data differs, and it
  // could not take over again.
  auto errant = replication::ErrantGtids(*target, *source);
  if (!errant) return fail(errant.error());
  const bool healthy = status->running() && !*incomplete && errant->empty();
  if (options.json) {
    nlohmann::json j{{"replicating", status->running()},
                     {"configured", status->configured},
                     {"io_thread", status->io_running},
                     {"sql_thread", status->sql_running},
                     {"primary_role", swapped ? "target" : "source"},
                     {"source", fmt::format("{}:{}", status->source_host, status->source_port)},
                     {"using_gtid", status->using_gtid},
                     {"last_io_error", status->last_io_error},
                     {"last_sql_error", status->last_sql_error},
                     {"source_gtid", *source_gtid},
                     {"applied_gtid", *applied},
                     {"caught_up", caught_up},
                     {"clone_incomplete", incomplete->has_value()},
                     {"errant_gtids", replication::FormatGtidList(*errant)}};
    j["seconds_behind"] = status->seconds_behind ? nlohmann::json(*status->seconds_behind) : nlohmann::json();
    fmt::print("{}\n", j.dump(2));
  } else {
    fmt::print("replica {}: {}\n", target->where(), status->Describe());
    fmt::print("primary {} GTID (gtid_binlog_pos): '{}'\n", source->where(), *source_gtid);
    fmt::print("replica {} applied (gtid_slave_pos): '{}'{}\n", target->where(), *applied,
               caught_up ? " - caught up" : "");
    if (*incomplete) {
      fmt::print("target holds an INCOMPLETE clone (started {} from {}); rerun cutover clone to start over\n",
                 (*incomplete)->started, (*incomplete)->source);
    }
    if (!errant->empty()) {
      fmt::print("ERRANT transactions on the replica: {}\n",
                 replication::ErrantGtidsError(*target, *source, *errant).message());
    }
  }
  return healthy ? 0 : 1;
}

}  // namespace cutover::cli
