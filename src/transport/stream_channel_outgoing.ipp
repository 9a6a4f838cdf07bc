// stream_channel_outgoing.ipp: the outgoing half of stream_channel<Protocol>::impl, included by
// stream_channel.cpp (its only translation unit, where the class is defined): writing a peer's
// queued frames, dialling and re-dialling, adopting a connection another part made, reading
// the answers (and on a duplex link the peer's frames), and the sweep that ends links whose
// messages were never answered.

// The transmit turn holder writes every queued frame (as many as max_in_flight lets go) in
// one send of the link's write buffer; any thread.
template <class Protocol>
auto stream_channel<Protocol>::impl::transmit(std::shared_ptr<peer_link> link) -> void {
  std::string& batch = link->write_buffer;  // the turn holder's alone
  while (link->queue.next_stream_batch(batch)) {
    std::size_t written = 0;
    std::uint64_t generation = 0;
    const int error = write_direct(*link, batch, written, generation);
    if (error == 0) continue;
    if (error == EAGAIN || error == EWOULDBLOCK) {
      // Socket buffer full: the I/O thread finishes this batch and keeps the turn going.
      link->owner->spawn(finish_write(link->owner, link, written, generation));
      return;
    }
    link->queue.release_turn();
    link->owner->post([owner = link->owner, link, generation, error] {
      owner->end_after_reading(link, generation,
                               absl::StrFormat("write failed: %s", std::strerror(error)));
    });
    return;
  }
}

// Writes as much of `bytes` as the socket takes without blocking. 0 when all was written,
// else the errno (EAGAIN with `written` bytes gone; ENOTCONN when there is no connection).
template <class Protocol>
auto stream_channel<Protocol>::impl::write_direct(peer_link& link, const std::string& bytes,
                                                  std::size_t& written, std::uint64_t& generation)
    -> int {
  std::lock_guard lock(link.write_mutex);
  generation = link.fd_generation;
  if (link.fd < 0) return ENOTCONN;
  written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::send(link.fd, bytes.data() + written, bytes.size() - written,
                             MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    written += static_cast<std::size_t>(n);
  }
  return 0;
}

template <class Protocol>
auto stream_channel<Protocol>::impl::finish_write(impl* self, std::shared_ptr<peer_link> link,
                                                  std::size_t skip, std::uint64_t generation)
    -> asio::awaitable<void> {
  if (generation != link->generation || !link->socket.is_open()) {
    link->queue.release_turn();
    co_return;  // the connection this batch was for is gone (its messages failed with it)
  }
  const std::string& batch = link->write_buffer;
  auto [ec, n] = co_await asio::async_write(
      link->socket, asio::buffer(batch.data() + skip, batch.size() - skip), as_tuple_awaitable);
  if (ec) {
    link->queue.release_turn();
    self->end_after_reading(link, generation, absl::StrFormat("write failed: %s", ec.message()));
    co_return;
  }
  transmit(link);
}

template <class Protocol>
auto stream_channel<Protocol>::impl::connect_loop(impl* self, std::shared_ptr<peer_link> link)
    -> asio::awaitable<void> {
  auto backoff = self->settings.reconnect_initial;
  bool reported = false;
  const auto started = std::chrono::steady_clock::now();
  while (!self->closed.load()) {
    std::error_code ec;
    if (link->reverse_only.load()) {
      // Only the peer can connect (adopt): until it has, this is a refusal like any other.
      if (link->queue.connected()) co_return;
      ec = asio::error::connection_refused;
    } else {
      socket_type s(self->io);
      auto [connect_ec] = co_await s.async_connect(link->peer, as_tuple_awaitable);
      if (self->closed.load()) co_return;
      if (!connect_ec) {
        self->connected(link, std::move(s));
        co_return;
      }
      ec = connect_ec;
    }
    if (self->settings.peers_never_return &&
        (link->ever_connected.load() ||
         std::chrono::steady_clock::now() - started >= self->settings.first_connect_grace)) {
      const std::string why =
          link->ever_connected.load()
              ? absl::StrFormat("the peer is gone (%s)", ec.message())
              : absl::StrFormat("the peer did not appear within %d ms (%s)",
                                self->settings.first_connect_grace.count(), ec.message());
      link->queue.peer_gone(why).run();
      link->connecting.store(false);
      // A message that arrived meanwhile dials again (and is refused the same way).
      if (link->queue.idle() || link->connecting.exchange(true)) co_return;
      continue;
    }
    if (!reported) {
      self->settings.report(absl::StrFormat("cannot connect to %s (%s); retrying with back-off",
                                            describe(link->peer), ec.message()));
      reported = true;
    }
    link->backoff_timer.expires_after(backoff);
    [[maybe_unused]] auto [wait_ec] = co_await link->backoff_timer.async_wait(as_tuple_awaitable);
    backoff = std::min(backoff * 2, self->settings.reconnect_max);
    if (link->queue.idle()) {
      // Nothing waits for this peer any more: dial again on the next send.
      link->connecting.store(false);
      if (link->queue.idle() || link->connecting.exchange(true)) co_return;
    }
  }
}

// I/O thread: `fd`, a connection the peer dialled, as a socket of this channel; none (fd
// closed, the failure reported) once the channel is closed or when the descriptor is refused.
template <class Protocol>
auto stream_channel<Protocol>::impl::take_over(const peer_link& link, int fd, const char* what)
    -> std::optional<socket_type> {
  if (closed.load()) {
    ::close(fd);
    return std::nullopt;
  }
  socket_type s(io);
  std::error_code ec;
  s.assign(link.peer.protocol(), fd, ec);
  if (ec) {
    ::close(fd);
    settings.report(absl::StrFormat("cannot adopt %s from %s: %s", what, describe(link.peer),
                                    ec.message()));
    return std::nullopt;
  }
  return s;
}

template <class Protocol>
auto stream_channel<Protocol>::impl::connected(const std::shared_ptr<peer_link>& link,
                                               socket_type s, connection_kind how,
                                               std::string carried) -> void {
  std::error_code ignored;
  if (link->queue.connected()) {
    // A dial that lost a race with another one: the live connection carries messages whose
    // ACKs only it can bring (replacing it would leave them unanswered forever).
    s.close(ignored);
    link->connecting.store(false);
    return;
  }
  if constexpr (std::is_same_v<Protocol, asio::ip::tcp>) {
    s.set_option(asio::ip::tcp::no_delay(true), ignored);
  }
  s.non_blocking(true, ignored);
  link->duplex = how == connection_kind::adopted_duplex;
  if (how == connection_kind::dialled && settings.duplex_route != 0 && deliver) {
    // The first bytes of a fresh connection: its send buffer takes them whole.
    std::string origin = control_frame_bytes(frame_kind::origin);
    put_sequence(origin, 0, settings.duplex_route);
    const ssize_t n = ::send(s.native_handle(), origin.data(), origin.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    link->duplex = n == static_cast<ssize_t>(origin.size());
    if (!link->duplex && n > 0) {
      // A partial origin frame would corrupt the stream (an error only costs duplex: the
      // reader finds the connection broken).
      s.close(ignored);
      link->connecting.store(false);
      ensure_connecting(link);
      return;
    }
  }
  link->socket = std::move(s);
  ++link->generation;
  {
    std::lock_guard lock(link->write_mutex);
    link->fd = link->socket.native_handle();
    link->fd_generation = link->generation;
  }
  {
    std::lock_guard lock(stats_mutex);
    ++stats.connects;
  }
  link->queue.set_connected(true);
  link->ever_connected.store(true);
  // A connection to a gone peer's endpoint is to a new peer (a new process took its port).
  link->gone.store(false);
  link->connecting.store(false);
  spawn(read_acks(this, link, link->generation, std::move(carried)));
  if (link->queue.try_take_turn()) transmit(link);
}

// I/O thread. Tears down the connection of `generation` (once) and redials if needed.
template <class Protocol>
auto stream_channel<Protocol>::impl::connection_lost(const std::shared_ptr<peer_link>& link,
                                                     std::uint64_t generation,
                                                     const std::string& why) -> void {
  if (generation != link->generation || !link->socket.is_open()) return;
  {
    std::lock_guard lock(link->write_mutex);
    link->fd = -1;
  }
  std::error_code ignored;
  link->socket.close(ignored);
  link->ending_timer.cancel();
  if (link->gone.load()) {
    // Everything the ended peer wrote has been read (this is its end of stream, or the
    // grace ran out): what it did not acknowledge, it never will. No redial.
    std::string reason;
    {
      std::lock_guard lock(link->gone_mutex);
      reason = link->gone_reason;
    }
    link->queue.set_connected(false);
    link->queue.peer_gone(reason).run();
    return;
  }
  const std::string reason =
      absl::StrFormat("connection to %s lost (%s) before the message was acknowledged",
                      describe(link->peer), why);
  if (!closed.load()) settings.report(reason);
  link->queue.connection_lost(reason).run();
  if (!closed.load() && !link->queue.idle()) ensure_connecting(link);
}

// I/O thread. The connection of `generation` is ending: a write to it failed, or its peer's
// process ended. Answers the peer wrote before that may still be unread (an ACK of a message
// it took just before it closed), so the connection is not dropped here: its reader goes on
// to the end of the stream, and connection_lost runs from there. Should that end not come
// (another process still holding the peer's socket), the grace bounds the wait.
template <class Protocol>
auto stream_channel<Protocol>::impl::end_after_reading(const std::shared_ptr<peer_link>& link,
                                                       std::uint64_t generation, std::string why)
    -> void {
  if (closed.load() || generation != link->generation || !link->socket.is_open()) return;
  if (link->ending_generation == generation) return;  // already waiting for its end
  link->ending_generation = generation;
  // The reader may be waiting for an epoll edge that will not come: drain_buffer takes a
  // short read as "drained", but an end of stream that came in the same edge as the last
  // bytes is still queued behind them. Cancelling its read makes it look at the socket.
  std::error_code ignored;
  link->socket.cancel(ignored);
  link->ending_timer.expires_after(ending_connection_grace);
  live.fetch_add(1);
  link->ending_timer.async_wait([this, link, generation, why = std::move(why)](std::error_code ec) {
    struct finished {
      impl* self;
      ~finished() { self->live.fetch_sub(1); }
    } done{this};
    if (ec || closed.load()) return;
    connection_lost(link, generation, why + "; the peer did not close the connection");
  });
}

// Reads the answers to what we sent and, on a duplex connection, the peer's data frames,
// which it delivers and answers (owed answers lead the link's next send; see the header).
template <class Protocol>
auto stream_channel<Protocol>::impl::read_acks(impl* self, std::shared_ptr<peer_link> link,
                                               std::uint64_t generation, std::string carried)
    -> asio::awaitable<void> {
  frame_decoder decoder(self->settings.max_stream_frame);
  const std::size_t chunk = std::min<std::size_t>(self->settings.read_chunk, 64 << 10);
  std::string why = "closed by the peer";
  bool look_directly = false;  // the connection is ending: recv until the socket is empty
  absl::InlinedVector<pending_notifications, 2> answered;
  std::string answers;  // duplex: the NACKs and the ACK of one read
  bool decode_carried = !carried.empty();
  if (decode_carried) decoder.feed(carried);
  for (;;) {
    const std::span<char> room = decode_carried ? std::span<char>{} : decoder.prepare(chunk);
    std::error_code ec;
    std::size_t n = 0;
    if (decode_carried) {
      decode_carried = false;  // the bytes the listener read first, then the socket
    } else if (look_directly) {
      const direct_read direct = read_directly(link->socket.native_handle(), room);
      if (direct.would_block) {
        look_directly = false;  // still open: new bytes or its end raise an edge again
        continue;
      }
      ec = direct.ec;
      n = direct.n;
    } else {
      auto [read_ec, read_n] = co_await link->socket.async_read_some(drain_buffer(room.data(), room.size()), as_tuple_awaitable);
      if (read_ec == asio::error::operation_aborted && !self->closed.load() &&
          (link->ending_generation == generation || link->look_generation == generation) &&
          generation == link->generation && link->socket.is_open()) {
        look_directly = true;  // end_after_reading or sweep_loop cancelled the read
        link->look_generation = 0;
        continue;
      }
      ec = read_ec;
      n = read_n;
    }
    if (ec) {
      if (ec != asio::error::eof) why = ec.message();
      break;
    }
    if (n > 0) decoder.commit(n);
    ++link->reads;
    bool broken = false;
    bool delivered_any = false;
    std::uint64_t delivered_through = 0;
    // The outcomes of this read, run once the next batch is written: while the peer waits for
    // that batch (the window is full whenever an ACK arrives under load), it does not also wait
    // for every acknowledged message's handler (a pipelined run's 448 of them) and for the
    // wake-up of a sender parked at the high-water mark.
    answered.clear();
    for (;;) {
      decode_result r = decoder.next();
      if (r.needs_more()) break;
      if (r.is_error()) {
        why = absl::StrFormat("protocol error from the peer: %s: %s", to_string(r.error().kind),
                              r.error().detail);
        broken = true;
        break;
      }
      const frame& f = r.value();
      if (f.kind == frame_kind::ack) {
        answered.push_back(link->queue.acknowledge_through(f.sequence));
      } else if (f.kind == frame_kind::nack) {
        answered.push_back(link->queue.refuse(f.sequence));
      } else if (f.kind == frame_kind::data && link->duplex && self->deliver) {
        const std::uint64_t sequence = f.sequence;
        if (self->deliver_frame(std::move(r.value()), answers)) {
          delivered_any = true;
          delivered_through = sequence;
        }
      } else {
        why = absl::StrFormat("protocol error from the peer: a %s frame on an outgoing connection",
                              to_string(f.kind));
        broken = true;
        break;
      }
    }
    if (delivered_any) self->append_control(answers, self->ack_template, delivered_through);
    if (!answers.empty()) {
      link->queue.add_answers(answers);
      answers.clear();
      // Behind the actor runs the deliveries scheduled: a reply they send takes the answers
      // along; if none does, they leave on their own here.
      self->post([link, generation] {
        if (generation == link->generation && link->queue.try_take_turn(true)) transmit(link);
      });
    }
    // Room freed by the answers may have admitted parked senders' messages: write them.
    if (link->queue.try_take_turn()) transmit(link);
    for (auto& outcomes : answered) outcomes.run();  // in the order the answers came
    if (broken) {
      std::lock_guard lock(self->stats_mutex);
      ++self->stats.connections_closed_on_error;
      break;
    }
  }
  self->connection_lost(link, generation, why);
}

template <class Protocol>
auto stream_channel<Protocol>::impl::sweep_loop(impl* self) -> asio::awaitable<void> {
  const auto interval = std::clamp<std::chrono::milliseconds>(
      self->settings.transmit_timeout / 8, std::chrono::milliseconds(1), std::chrono::milliseconds(1000));
  while (!self->closed.load()) {
    self->sweep_timer.expires_after(interval);
    [[maybe_unused]] auto [ec] = co_await self->sweep_timer.async_wait(as_tuple_awaitable);
    if (self->closed.load()) co_return;
    std::vector<std::shared_ptr<peer_link>> links;
    {
      std::lock_guard lock(self->peers_mutex);
      for (auto& [peer, link] : self->peers) links.push_back(link);
    }
    const auto now = outbound_queue::clock::now();
    for (auto& link : links) {
      link->queue.expire(now).run();
      if (link->queue.try_take_turn()) transmit(link);
      look_if_stalled(*link);
    }
  }
}

// I/O thread. A reader takes a short read as "the socket is empty" and waits for the next
// epoll edge (drained_read.hpp). But when the peer's end (FIN, or the RST our next write
// draws from a closed socket) comes in the same edge as the last bytes it read, no edge
// follows: the link waits forever with messages in flight, which then never get an outcome
// (a dead_letters flake on multiprocTCPBase: a message written just after the peer's
// process closed its socket). So a link with messages in flight that had no read since
// the last sweep is looked at: bytes, an end or an error waiting make its reader look
// directly (one recv with MSG_PEEK per such link and sweep; none while reads go on).
template <class Protocol>
auto stream_channel<Protocol>::impl::look_if_stalled(peer_link& link) -> void {
  const bool progressed = link.reads != link.reads_at_sweep;
  link.reads_at_sweep = link.reads;
  if (progressed || link.queue.in_flight() == 0 || !link.socket.is_open() ||
      link.look_generation == link.generation) {
    return;
  }
  char byte = 0;
  const ssize_t got = ::recv(link.socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  link.look_generation = link.generation;
  std::error_code ignored;
  link.socket.cancel(ignored);
}
