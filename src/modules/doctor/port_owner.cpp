#include "modules/doctor/port_owner.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace datalab::doctor {

namespace {

// Inode of the socket listening on `port` in one of /proc/net/tcp, /proc/net/tcp6.
std::optional<std::string> listening_inode(int port) {
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string slot, local, remote, state, queues, timer, retransmits, uid, timeout, inode;
      fields >> slot >> local >> remote >> state >> queues >> timer >> retransmits >> uid >> timeout >> inode;
      const auto colon = local.rfind(':');
      if (state != "0A" || colon == std::string::npos) continue;  // 0A: LISTEN
      if (std::stoi(local.substr(colon + 1), nullptr, 16) == port) return inode;
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<PortOwner> port_owner(int port) {
  const auto inode = listening_inode(port);
  if (!inode) return std::nullopt;
  const std::string target = "socket:[" + *inode + "]";
  std::error_code ec;
  for (const auto& process : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = process.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::filesystem::directory_iterator fds(process.path() / "fd", ec);
    if (ec) {
      ec.clear();
      continue;
    }
    for (const auto& fd : fds) {
      std::error_code link_error;
      if (std::filesystem::read_symlink(fd.path(), link_error).string() != target) continue;
      std::string command;
      std::ifstream(process.path() / "comm") >> command;
      return PortOwner{std::stoi(name), command};
    }
  }
  return std::nullopt;
}

}  // namespace datalab::doctor
