#include "storage/postgres/advisory_lock.h"

#include "storage/postgres/postgres_connection.h"

namespace datalab {

AdvisoryLock::AdvisoryLock(PgConnection& db, std::string name, const std::function<void()>& on_wait)
    : db_(db), name_(std::move(name)) {
  if (db_.exec("SELECT pg_try_advisory_lock(hashtextextended($1, 0))", {name_}).value(0, 0) == "t") return;
  if (on_wait) on_wait();
  db_.exec("SELECT pg_advisory_lock(hashtextextended($1, 0))", {name_});
}

AdvisoryLock::~AdvisoryLock() {
  try {
    db_.exec("SELECT pg_advisory_unlock(hashtextextended($1, 0))", {name_});
  } catch (...) {  // a broken connection ends the session, and with it the lock
  }
}

}  // namespace datalab
