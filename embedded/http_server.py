"""The local stack's HTTP servers: a thread per connection, and a listen backlog that takes a burst."""

from http.server import ThreadingHTTPServer


class LoopbackServer(ThreadingHTTPServer):
    # socketserver's backlog is 5. Past it the kernel drops a connect and the client sends it again 1 s later,
    # then 2 s, 4 s: with ten executors starting their lines at once (500 connections), a connect could outlast
    # its 10 s timeout and fail its line.
    request_queue_size = 1024
    daemon_threads = True
