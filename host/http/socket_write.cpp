#include "http/socket_write.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>

#include "loop/wait.hpp"

namespace llmproxy {

int write_all(SocketWait& socket, std::initializer_list<std::string_view> parts, int timeout_ms,
              std::size_t* written) {
    std::size_t ignored = 0;
    std::size_t& total = written ? *written : ignored;
    total = 0;
    iovec io[kMaxWriteParts];
    std::size_t count = 0;
    for (std::string_view part : parts) {
        if (part.empty())
            continue;
        if (count == kMaxWriteParts)
            return EINVAL;
        io[count++] = {const_cast<char*>(part.data()), part.size()};
    }
    std::size_t next = 0;
    while (next < count) {
        msghdr message{};
        message.msg_iov = io + next;
        message.msg_iovlen = count - next;
        ssize_t sent = ::sendmsg(socket.fd(), &message, MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return errno;
            if (!socket.wait(EPOLLOUT, timeout_ms))
                return EAGAIN;
            continue;
        }
        auto left = static_cast<std::size_t>(sent);
        total += left;
        while (next < count && left >= io[next].iov_len)
            left -= io[next++].iov_len;
        if (next < count) {
            io[next].iov_base = static_cast<char*>(io[next].iov_base) + left;
            io[next].iov_len -= left;
        }
    }
    return 0;
}

}  // namespace llmproxy
