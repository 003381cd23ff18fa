/* stats.h -- counters shared between the master and its workers.
 *
 * The master creates one memfd-backed MAP_SHARED region; each worker is
 * exec'ed with the fd and maps the same pages (stats_attach). Each worker
 * writes only its own slot, the master (HTTP /metrics, /healthz)
 * only reads. Plain relaxed atomics: no locks across processes. A respawned
 * worker resets its slot's gauges but keeps the counters growing. */
#ifndef PERFLOAD_STATS_H
#define PERFLOAD_STATS_H

#include <stdint.h>
#include <sys/types.h>

#define STATS_MAX_WORKERS 256

struct worker_stats {
    _Atomic int32_t pid;            /* worker pid, 0 while the slot is down */
    _Atomic int64_t started_ms;     /* when this worker started (epoch ms) */
    _Atomic int64_t heartbeat_ms;   /* last event-loop tick (epoch ms), to spot a hung worker */
    _Atomic int64_t connections;    /* gauge: open Engine.IO sessions */
    _Atomic int64_t agents;         /* gauge: sockets in room 'clients' */
    _Atomic int64_t uis;            /* gauge: sockets in room 'ui' */
    _Atomic uint64_t connections_total;
    _Atomic uint64_t messages_in;   /* Socket.IO packets received */
    _Atomic uint64_t messages_out;  /* Socket.IO packets sent (one per receiving socket) */
    _Atomic uint64_t samples_in;    /* valid samples accepted */
    _Atomic uint64_t samples_rejected;
    _Atomic uint64_t protocol_errors;
    _Atomic uint64_t auth_failures;
    _Atomic uint64_t slow_clients_dropped;
    _Atomic int32_t redis_up;       /* 1 connected, 0 down, -1 Redis turned off (empty --redis) */
    _Atomic uint64_t redis_errors;
    _Atomic int32_t mongo_up;       /* 1 when the last Mongo write succeeded (or Mongo is off: -1) */
    _Atomic uint64_t mongo_errors;
    _Atomic int64_t mongo_queue_depth;
    _Atomic uint64_t mongo_written;
    _Atomic uint64_t samples_dropped; /* Mongo queue full: oldest dropped */
    /* access limits and hostile input (docs/security.md) */
    _Atomic uint64_t conns_refused_ip_cap;   /* sockets disconnected: --max-conns-per-ip reached */
    _Atomic uint64_t msgs_rate_limited;      /* events dropped by --max-msgs-per-sec */
    _Atomic uint64_t rate_limit_disconnects; /* sockets disconnected for staying over the rate */
    _Atomic uint64_t agents_refused_network; /* agent-key clientAuth from outside --agent-networks */
    _Atomic uint64_t redis_data_rejected;    /* samples read back from Redis that failed validation */
    _Atomic int32_t mongo_known;    /* 1 once the Mongo writer has talked to Mongo: before that mongo_up is a guess */
};

struct appliance_stats {
    _Atomic int64_t started_ms;
    _Atomic uint32_t nworkers;
    _Atomic uint64_t accepted;      /* connections accepted by the master */
    _Atomic uint64_t handoff_failed;/* refused because the slot's worker was down */
    _Atomic uint64_t respawns;
    struct worker_stats workers[STATS_MAX_WORKERS];
    _Atomic uint64_t http_rejected; /* HTTP requests answered 400/403/405 (bad path, query, method) */
};

/* Creates and maps the shared region; *fd_out receives its memfd
 * (close-on-exec, owned by the caller, kept open to hand to every worker).
 * NULL on failure with errno set. */
struct appliance_stats *stats_create(uint32_t nworkers, int *fd_out);

/* Maps the region behind fd (a worker's copy of the master's memfd; the
 * caller may close fd afterwards). NULL with errno set when fd is not a
 * stats region. */
struct appliance_stats *stats_attach(int fd);

/* Unmaps (either kind). */
void stats_destroy(struct appliance_stats *st);

#endif
