#pragma once
// Which local process listens on a TCP port, from /proc (Linux): the socket's inode in
// /proc/net/tcp{,6}, then the process whose file descriptors include that socket.
#include <optional>
#include <string>

namespace datalab::doctor {

struct PortOwner {
  int pid = 0;
  std::string command;  // /proc/<pid>/comm
};

// nullopt when nothing on this machine listens there, or the owner cannot be seen (another
// user's process without the rights to read its descriptors).
std::optional<PortOwner> port_owner(int port);

}  // namespace datalab::doctor
