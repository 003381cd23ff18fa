/* http_server.h -- the dashboard's HTTP side on --http-port (libmicrohttpd).
 *
 * Runs inside the master, after the workers are forked, on MHD's own
 * threads (internal polling thread pool): it never blocks the master's
 * accept loop. Serves the dashboard files from cfg->www_dir, the JSON API
 * (/api/config, /api/machines[/<mac>[/history]]), /metrics (Prometheus text
 * format) and /healthz. Reads live state from Redis with its own short-
 * timeout synchronous client, history from Mongo with its own pool, and
 * the appliance's counters from the shared stats region (read-only). */
#ifndef PERFLOAD_HTTP_SERVER_H
#define PERFLOAD_HTTP_SERVER_H

#include <stddef.h>

struct pl_config;
struct appliance_stats;
struct http_server;

/* Starts listening on cfg->bind_host:cfg->http_port. cfg and stats must
 * outlive the server (the master owns both). Returns NULL with a one-line
 * reason in err when the port cannot be bound or MHD fails to start. */
struct http_server *http_server_start(const struct pl_config *cfg, struct appliance_stats *stats,
                                      char *err, size_t errlen);

/* Stops accepting, finishes in-flight requests, frees everything. NULL is a no-op. */
void http_server_stop(struct http_server *srv);

#endif
