package phx

// Local sockets have no network connection: a caller hands them client frames and takes what the server
// queued for them. They run handlers exactly as network sockets do, on the caller's goroutine, so tests can
// drive a channel deterministically and benchmarks can measure the server's own work without the network.

// NewLocalSocket makes a socket with no connection for session id.
func (s *Server) NewLocalSocket(id string, assigns any) *Socket {
	return &Socket{id: id, assigns: assigns, server: s, queue: newOutQueue(s.cfg.QueueLen),
		channels: map[string]*Channel{}, closing: make(chan struct{})}
}

// Deliver handles one client frame as if it had been read from the network. It reports false when the frame
// made the socket close (a malformed frame, say).
func (s *Socket) Deliver(frame []byte) bool {
	s.server.stats.FramesIn.Add(1)
	return s.handleFrame(frame)
}

// TakeQueued returns the frames queued for the client since the last call. Like the writer it swaps two
// buffers, so the slice it returns is valid only until the next call.
func (s *Socket) TakeQueued() []*Outbound {
	spare := s.localPrev
	clear(spare)
	items := s.queue.take(spare)
	s.localPrev = items
	return items
}

// EndLocal ends a local socket as a closed connection would: every channel terminates.
func (s *Socket) EndLocal() {
	s.Close(1000, "")
	for topic, c := range s.channels {
		s.terminate(c, "socket closed")
		delete(s.channels, topic)
	}
}
