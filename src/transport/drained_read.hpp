// A buffer type for stream reads that tells Asio's epoll reactor when a read drained the
// socket, so that the next async_read_some waits in epoll_wait instead of first trying a recv
// that can only answer EAGAIN (two such syscalls per round trip, one on each side).
//
// Asio 1.22 marks a descriptor "exhausted" (its next read goes straight to the reactor, and the
// next EPOLLIN edge makes it speculative again) only when a stream read returns 0 bytes (EOF).
// A short read says as much: a non-blocking recv on a TCP or UNIX stream socket returns less
// than asked only once the receive queue is empty (TCP and AF_UNIX stream reads go on over
// queued segments until the buffer is full; neither glues nor stops at SCM credentials here, as
// no SO_PASSCRED and no descriptor passing are used on these sockets), and any byte that arrives
// later raises a new edge on the edge-triggered registration. So the read operation of
// drain_buffer reports a short read as done_and_exhausted. It is an explicit specialisation
// of Asio's recv operation base for our own buffer type, a copy of the generic one with that one
// line changed: every other part (handler allocation, cancellation, executors) is Asio's.
// A datagram read cannot tell from its size whether more wait, so datagram_pair reads with
// recvmmsg for up to two datagrams: one back means the second attempt found the queue empty
// (EAGAIN), which is "exhausted" too. Only for the Asio version it was checked against; any
// other version gets the generic behaviour (correct, with the extra EAGAIN read, and at most one
// datagram per read).
#pragma once

#include <asio.hpp>
#include <asio/version.hpp>

namespace thespian::transport {

// One mutable buffer, as a buffer sequence of one element, for async_read_some on a stream
// socket whose reads are all bounded by this buffer.
class drain_buffer {
 public:
  using value_type = asio::mutable_buffer;
  using const_iterator = const asio::mutable_buffer*;

  drain_buffer(void* data, std::size_t size) : buffer_(data, size) {}

  const_iterator begin() const { return &buffer_; }
  const_iterator end() const { return &buffer_ + 1; }
  const asio::mutable_buffer& buffer() const { return buffer_; }

 private:
  asio::mutable_buffer buffer_;
};

// Room for two datagrams, for async_receive_from on a datagram socket: the first lands in
// `first` and its sender in the endpoint given to async_receive_from (bytes_transferred is its
// size), a second one, when read by the same call, in `second` with its sender and size in
// *more. `trust_empty` false (a socket with IP_RECVERR, whose error recvmmsg may keep for the
// next call without a new epoll edge) never reports the socket drained.
struct more_datagram {
  asio::ip::udp::endpoint from;
  std::size_t size = 0;
  bool present = false;
};

class datagram_pair {
 public:
  using value_type = asio::mutable_buffer;
  using const_iterator = const asio::mutable_buffer*;

  datagram_pair(asio::mutable_buffer first, asio::mutable_buffer second, more_datagram* more,
                bool trust_empty)
      : buffers_{first, second}, more_(more), trust_empty_(trust_empty) {
    more_->present = false;
  }

  // The generic path (another Asio version) receives into the first buffer only.
  const_iterator begin() const { return &buffers_[0]; }
  const_iterator end() const { return &buffers_[1]; }
  const asio::mutable_buffer& first() const { return buffers_[0]; }
  const asio::mutable_buffer& second() const { return buffers_[1]; }
  more_datagram& more() const { return *more_; }
  bool trust_empty() const { return trust_empty_; }

 private:
  asio::mutable_buffer buffers_[2];
  more_datagram* more_;
  bool trust_empty_;
};

}  // namespace thespian::transport

#if ASIO_VERSION == 102201 && defined(ASIO_HAS_EPOLL) && !defined(ASIO_HAS_IO_URING)
#define THESPIAN_DRAINED_READ 1
#include <sys/socket.h>

#include <cerrno>

#include <asio/detail/reactive_socket_recv_op.hpp>
#include <asio/detail/reactive_socket_recvfrom_op.hpp>

namespace asio::detail {

template <>
class reactive_socket_recv_op_base<thespian::transport::drain_buffer> : public reactor_op {
 public:
  reactive_socket_recv_op_base(const asio::error_code& success_ec, socket_type socket,
                               socket_ops::state_type state,
                               const thespian::transport::drain_buffer& buffers,
                               socket_base::message_flags flags, func_type complete_func)
      : reactor_op(success_ec, &reactive_socket_recv_op_base::do_perform, complete_func),
        socket_(socket),
        state_(state),
        buffers_(buffers),
        flags_(flags) {}

  static status do_perform(reactor_op* base) {
    auto* o = static_cast<reactive_socket_recv_op_base*>(base);
    const asio::mutable_buffer& b = o->buffers_.buffer();
    const bool stream = (o->state_ & socket_ops::stream_oriented) != 0;
    if (!socket_ops::non_blocking_recv1(o->socket_, b.data(), b.size(), o->flags_, stream, o->ec_,
                                        o->bytes_transferred_)) {
      return not_done;
    }
    // The one change from Asio's generic operation, which tests bytes_transferred_ == 0 (EOF or
    // an error): a short read drained the socket too.
    return stream && o->bytes_transferred_ < b.size() ? done_and_exhausted : done;
  }

 private:
  socket_type socket_;
  socket_ops::state_type state_;
  thespian::transport::drain_buffer buffers_;
  socket_base::message_flags flags_;
};

template <>
class reactive_socket_recvfrom_op_base<thespian::transport::datagram_pair, asio::ip::udp::endpoint>
    : public reactor_op {
 public:
  reactive_socket_recvfrom_op_base(const asio::error_code& success_ec, socket_type socket,
                                   int protocol_type,
                                   const thespian::transport::datagram_pair& buffers,
                                   asio::ip::udp::endpoint& endpoint,
                                   socket_base::message_flags flags, func_type complete_func)
      : reactor_op(success_ec, &reactive_socket_recvfrom_op_base::do_perform, complete_func),
        socket_(socket),
        buffers_(buffers),
        sender_endpoint_(endpoint),
        flags_(flags) {
    (void)protocol_type;
  }

  static status do_perform(reactor_op* base) {
    auto* o = static_cast<reactive_socket_recvfrom_op_base*>(base);
    thespian::transport::more_datagram& more = o->buffers_.more();
    iovec vectors[2] = {{o->buffers_.first().data(), o->buffers_.first().size()},
                        {o->buffers_.second().data(), o->buffers_.second().size()}};
    mmsghdr messages[2] = {};
    messages[0].msg_hdr.msg_name = o->sender_endpoint_.data();
    messages[0].msg_hdr.msg_namelen = static_cast<socklen_t>(o->sender_endpoint_.capacity());
    messages[0].msg_hdr.msg_iov = &vectors[0];
    messages[0].msg_hdr.msg_iovlen = 1;
    messages[1].msg_hdr.msg_name = more.from.data();
    messages[1].msg_hdr.msg_namelen = static_cast<socklen_t>(more.from.capacity());
    messages[1].msg_hdr.msg_iov = &vectors[1];
    messages[1].msg_hdr.msg_iovlen = 1;
    int n;
    do {
      n = ::recvmmsg(o->socket_, messages, 2, o->flags_ | MSG_DONTWAIT, nullptr);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return not_done;
      o->ec_ = asio::error_code(errno, asio::error::get_system_category());
      o->bytes_transferred_ = 0;
      return done;
    }
    o->ec_ = asio::error_code();
    o->bytes_transferred_ = messages[0].msg_len;
    o->sender_endpoint_.resize(messages[0].msg_hdr.msg_namelen);
    if (n == 2) {
      more.present = true;
      more.size = messages[1].msg_len;
      more.from.resize(messages[1].msg_hdr.msg_namelen);
      return done;
    }
    // One of two: the second attempt found the queue empty (or met an error kept for the next
    // call, hence trust_empty).
    return o->buffers_.trust_empty() ? done_and_exhausted : done;
  }

 private:
  socket_type socket_;
  thespian::transport::datagram_pair buffers_;
  asio::ip::udp::endpoint& sender_endpoint_;
  socket_base::message_flags flags_;
};

}  // namespace asio::detail
#endif
