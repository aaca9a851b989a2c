#pragma once
// A session-level PostgreSQL advisory lock named by text, held for the object's lifetime:
// serialises runs that must not overlap on one database (a module's run, an upload). The
// lock ends with the session too, so a killed holder never leaves it taken.
#include <functional>
#include <string>

namespace datalab {

class PgConnection;

class AdvisoryLock {
 public:
  // Takes the lock; when another session holds it, calls `on_wait` once and then waits.
  AdvisoryLock(PgConnection& db, std::string name, const std::function<void()>& on_wait = {});
  ~AdvisoryLock();
  AdvisoryLock(const AdvisoryLock&) = delete;
  AdvisoryLock& operator=(const AdvisoryLock&) = delete;

 private:
  PgConnection& db_;
  std::string name_;
};

}  // namespace datalab
