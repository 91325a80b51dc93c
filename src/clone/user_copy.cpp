#include "clone/user_copy.h"

#include <fmt/format.h>

namespace cutover::clone {

Result<UserCopyReport> CopyUsers(db::Connection& source, db::Connection& target) {
  auto users = source.Query(
      "SELECT User, Host FROM mysql.user WHERE is_role = 'N' AND User NOT IN ('', 'root', 'mariadb.sys', 'mysql') "
      "ORDER BY User, Host");
  if (!users) return Fail(users.error().WithContext("listing accounts (the source user needs SELECT on mysql.user)"));
  UserCopyReport report;
  for (const db::Row& row : users->rows) {
    const std::string user = row[0].value_or(""), host = row[1].value_or("");
    const std::string account = fmt::format("{}@{}", source.Quote(user), source.Quote(host));
    auto exists = target.QueryValue(
        fmt::format("SELECT COUNT(*) FROM mysql.user WHERE User = {} AND Host = {}", target.Quote(user),
                    target.Quote(host)));
    if (!exists) return Fail(exists.error());
    if (*exists != "0") {
      report.skipped.push_back(account + " (already on the target)");
      continue;
    }
    auto create = source.QueryValue("SHOW CREATE USER " + account);
    if (!create) return Fail(create.error());
    auto grants = source.Query("SHOW GRANTS FOR " + account);
    if (!grants) return Fail(grants.error());
    std::vector<std::string> statements = {create->value_or("")};
    for (const db::Row& g : grants->rows) statements.push_back(g.at(0).value_or(""));
    for (const std::string& sql : statements) {
      if (Status st = target.Execute(sql); !st) {
        return Fail(st.error().WithContext(fmt::format("copying account {} to the target", account)));
      }
    }
    report.copied.push_back(account);
  }
  return report;
}

}  // namespace cutover::clone
