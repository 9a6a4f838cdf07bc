// stream_channel_incoming.ipp: the incoming half of stream_channel<Protocol>::impl, included by
// stream_channel.cpp (its only translation unit, where the class is defined): accepting
// connections, serving one (read, deliver, answer), and serving the connection that a reverse
// channel dials.

template <class Protocol>
auto stream_channel<Protocol>::impl::accept_loop(impl* self) -> asio::awaitable<void> {
  asio::steady_timer pause(self->io);
  for (;;) {
    auto [ec, s] = co_await self->acceptor->async_accept(as_tuple_awaitable);
    if (self->closed.load()) co_return;
    if (ec) {
      // E.g. out of descriptors: say so, wait a little, keep serving.
      self->settings.report(absl::StrFormat("accept on %s failed: %s", describe(self->local), ec.message()));
      pause.expires_after(std::chrono::milliseconds(50));
      co_await pause.async_wait(as_tuple_awaitable);
      continue;
    }
    std::error_code ignored;
    if constexpr (std::is_same_v<Protocol, asio::ip::tcp>) {
      s.set_option(asio::ip::tcp::no_delay(true), ignored);
    }
    s.non_blocking(true, ignored);
    auto connection = std::make_shared<inbound_connection>(std::move(s));
    self->inbound.insert(connection);
    {
      std::lock_guard lock(self->stats_mutex);
      ++self->stats.connections_accepted;
    }
    self->spawn(serve(self, connection));
  }
}

// Hands a data frame to the deliver handler. A frame it refused, or that made it throw, is
// answered NACK in `answers`; true when delivered.
template <class Protocol>
auto stream_channel<Protocol>::impl::deliver_frame(frame&& f, std::string& answers) -> bool {
  const std::uint64_t sequence = f.sequence;
  bool taken = false;
  try {
    taken = deliver(std::move(f));
  } catch (const std::exception& e) {
    settings.report(absl::StrFormat("deliver handler threw (message answered NACK): %s", e.what()));
  }
  if (!taken) append_control(answers, nack_template, sequence);
  return taken;
}

template <class Protocol>
auto stream_channel<Protocol>::impl::append_control(std::string& out, const std::string& templ,
                                                    std::uint64_t sequence) -> void {
  const std::size_t at = out.size();
  out.append(templ);
  put_sequence(out, at, sequence);
}

// Reads data frames (at most read_chunk bytes per read), delivers them, answers NACKs and one
// cumulative ACK per read. Any protocol error closes this connection only.
template <class Protocol>
auto stream_channel<Protocol>::impl::serve(impl* self,
                                           std::shared_ptr<inbound_connection> connection)
    -> asio::awaitable<void> {
  frame_decoder decoder(self->settings.max_stream_frame);
  std::string answers;
  std::string error;
  bool first_frame = true;
  bool look_directly = false;
  for (;;) {
    // Read in place into the decoder's buffer: no copy between the socket and cereal.
    const std::span<char> room = decoder.prepare(self->settings.read_chunk);
    // A short read drained the socket: the next one waits for data without a recv first
    // (drained_read.hpp). But a peer that ends inside a frame often has its last bytes and
    // its end of stream arrive in one epoll edge, and no edge would come for the end: so
    // after a short read that left a frame incomplete, look with a direct recv first (one
    // that may answer EAGAIN, only then). Between frames no look is needed: the ACK we
    // write makes a peer that has ended answer with a reset, which raises an edge.
    std::error_code ec;
    std::size_t n = 0;
    bool read = false;
    if (look_directly) {
      look_directly = false;
      const direct_read direct = read_directly(connection->socket.native_handle(), room);
      read = !direct.would_block;
      ec = direct.ec;
      n = direct.n;
    }
    if (!read) {
      std::tie(ec, n) = co_await connection->socket.async_read_some(drain_buffer(room.data(), room.size()), as_tuple_awaitable);
    }
    if (ec) {
      if (ec == asio::error::eof) {
        if (auto e = decoder.finish()) error = absl::StrFormat("%s: %s", to_string(e->kind), e->detail);
      }
      break;
    }
    decoder.commit(n);
    const bool short_read = n < room.size();
    bool delivered_any = false;
    std::uint64_t delivered_through = 0;
    for (;;) {
      decode_result r = decoder.next();
      if (r.needs_more()) break;
      if (r.is_error()) {
        error = absl::StrFormat("%s: %s", to_string(r.error().kind), r.error().detail);
        break;
      }
      frame& f = r.value();
      if (f.kind == frame_kind::hello && first_frame && self->settings.on_hello &&
          decoder.buffered_bytes() == 0) {
        // A reverse connection: from now on it is the sending side's (see the header).
        std::error_code release_ec;
        const int fd = connection->socket.release(release_ec);
        self->inbound.erase(connection);
        {
          std::lock_guard lock(self->stats_mutex);
          self->stats.decoded += decoder.counters();
        }
        if (release_ec) co_return;
        self->settings.on_hello(f.sequence, fd);
        co_return;
      }
      if (f.kind == frame_kind::origin && first_frame) {
        first_frame = false;
        if (!self->settings.on_origin) continue;  // served as a one-way connection
        // A duplex connection: the sending channel may take it (with the bytes read past the
        // origin frame), or leave it to us.
        const std::string rest(decoder.buffered().begin(), decoder.buffered().end());
        std::error_code protocol_ec;
        const auto protocol = connection->socket.local_endpoint(protocol_ec).protocol();
        std::error_code release_ec;
        const int fd = protocol_ec ? -1 : connection->socket.release(release_ec);
        if (fd < 0 || release_ec) continue;
        bool taken = false;
        try {
          taken = self->settings.on_origin(f.sequence, fd, rest);
        } catch (const std::exception& e) {
          // E.g. the sending channel is closing: this connection stays one-way.
          self->settings.report(absl::StrFormat("on_origin threw (connection kept one-way): %s", e.what()));
        }
        if (taken) {
          self->inbound.erase(connection);
          std::lock_guard lock(self->stats_mutex);
          self->stats.decoded += decoder.counters();
          co_return;
        }
        std::error_code assign_ec;
        connection->socket.assign(protocol, fd, assign_ec);
        if (assign_ec) {
          ::close(fd);
          error = absl::StrFormat("cannot serve a connection again: %s", assign_ec.message());
          break;
        }
        continue;
      }
      first_frame = false;
      if (f.kind != frame_kind::data) {
        error = absl::StrFormat("unexpected %s frame on an incoming connection", to_string(f.kind));
        break;
      }
      const std::uint64_t sequence = f.sequence;
      if (self->deliver_frame(std::move(f), answers)) {
        delivered_any = true;
        delivered_through = sequence;
      }
    }
    look_directly = short_read && decoder.buffered_bytes() > 0;
    if (delivered_any) self->append_control(answers, self->ack_template, delivered_through);
    if (!answers.empty()) {
      // Usually the socket takes the answers at once; wait for room only when it does not.
      std::error_code wec;
      std::size_t done = connection->socket.write_some(asio::buffer(answers), wec);
      if (wec == asio::error::would_block || wec == asio::error::try_again) {
        wec.clear();
        done = 0;
      }
      if (!wec && done < answers.size()) {
        auto [aec, written] = co_await asio::async_write(
            connection->socket, asio::buffer(answers.data() + done, answers.size() - done), as_tuple_awaitable);
        wec = aec;
      }
      answers.clear();
      if (wec) break;
    }
    if (!error.empty()) break;
  }
  {
    std::lock_guard lock(self->stats_mutex);
    self->stats.decoded += decoder.counters();
    if (!error.empty()) ++self->stats.connections_closed_on_error;
  }
  if (!error.empty() && !self->closed.load()) {
    self->settings.report(absl::StrFormat("closing incoming connection on %s after a protocol error: %s",
                                          describe(self->local), error));
  }
  std::error_code ignored;
  connection->socket.close(ignored);
  self->inbound.erase(connection);
}

// The reverse constructor: dial the peer (retrying with back-off), say hello, then serve the
// connection as if it had been accepted.
template <class Protocol>
auto stream_channel<Protocol>::impl::dial_and_serve(impl* self, endpoint_type to, std::uint64_t key)
    -> asio::awaitable<void> {
  asio::steady_timer pause(self->io);
  auto backoff = self->settings.reconnect_initial;
  bool reported = false;
  while (!self->closed.load()) {
    socket_type s(self->io);
    auto [ec] = co_await s.async_connect(to, as_tuple_awaitable);
    if (self->closed.load()) co_return;
    if (ec) {
      if (!reported) {
        self->settings.report(absl::StrFormat("cannot dial %s (%s); retrying with back-off",
                                              describe(to), ec.message()));
        reported = true;
      }
      pause.expires_after(backoff);
      co_await pause.async_wait(as_tuple_awaitable);
      backoff = std::min(backoff * 2, self->settings.reconnect_max);
      continue;
    }
    std::error_code ignored;
    if constexpr (std::is_same_v<Protocol, asio::ip::tcp>) {
      s.set_option(asio::ip::tcp::no_delay(true), ignored);
    }
    std::string hello = control_frame_bytes(frame_kind::hello);
    put_sequence(hello, 0, key);
    auto [write_ec, written] =
        co_await asio::async_write(s, asio::buffer(hello), as_tuple_awaitable);
    if (self->closed.load()) co_return;
    if (write_ec) {
      self->settings.report(
          absl::StrFormat("cannot greet %s: %s", describe(to), write_ec.message()));
      continue;
    }
    s.non_blocking(true, ignored);
    auto connection = std::make_shared<inbound_connection>(std::move(s));
    self->inbound.insert(connection);
    co_await serve(self, connection);
    // The peer holds our only way in: without it nobody can reach us any more.
    if (!self->closed.load()) {
      self->settings.report(absl::StrFormat("the connection to %s (dialled to receive) ended",
                                            describe(to)));
    }
    co_return;
  }
}
