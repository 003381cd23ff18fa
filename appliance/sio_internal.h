/* sio_internal.h -- shared by sio_server.c (engine, clients, packet
 * dispatch) and sio_socket.c (socket API, rooms). Not an API. */
#ifndef PERFLOAD_SIO_INTERNAL_H
#define PERFLOAD_SIO_INTERNAL_H

#include <stdint.h>

#include <ev.h>
#include <libwebsockets.h>

#include "eio_server.h"
#include "eio_timer.h"
#include "sio_packet.h"
#include "sio_server.h"

#define SIO_ID_LEN 20
#define SIO_ROOM_BUCKETS 256

struct sio_room {
    char *name;
    struct sio_socket **members;
    size_t n, cap;
    struct sio_room *next;        /* hash chain */
};

/* A socket's membership: the room and its index in room->members, so that
 * leaving is O(1) even for rooms of thousands. */
struct sio_membership {
    struct sio_room *room;
    size_t idx;
};

struct sio_client;

/* One per connected namespace of a client: field order and widths keep it
 * small (docs/benchmarks.md, memory per agent). */
struct sio_socket {
    struct sio_server *server;
    struct sio_client *client;
    const char *nsp;              /* the server's copy (server->namespaces) */
    struct eio_buf **held;        /* sends made while connecting */
    struct sio_membership *rooms;
    void *user;
    struct sio_socket *next;      /* in client->sockets */
    uint32_t nheld, nrooms, rooms_cap;
    unsigned connecting : 1;      /* inside on_connect: sends are held back */
    unsigned disconnecting : 1;   /* sio_socket_disconnect called */
    char id[SIO_ID_LEN + 1];
};

/* A BINARY_* packet waiting for its attachments (rare: allocated while
 * one is pending, so an ordinary client does not carry it). */
struct sio_binary {
    char *packet;
    size_t packet_len;
    long expected;
    struct sio_attachment *att;
    size_t natt;
};

/* One per Engine.IO session: kept small (docs/benchmarks.md, memory per
 * agent). */
struct sio_client {
    struct sio_server *server;
    struct eio_session *eio;
    struct sio_socket *sockets;
    struct sio_binary *bin;        /* NULL unless attachments are pending */
    /* Before the first socket: the connect timeout (server->tq_connect);
     * afterwards: freeing sockets sio_socket_disconnect marked (tq_reap). */
    struct eio_timer t;
};

struct sio_server {
    struct sio_server_options o;
    struct sio_handlers h;
    char path[128];
    char **namespaces;            /* NULL-terminated copy */
    char worker_name[64];
    char bind_address[64];
    struct eio_server *eio;
    struct lws_context *ctx;
    struct lws_vhost *vhost;
    struct lws_protocols *protocols;
    struct sio_room *rooms[SIO_ROOM_BUCKETS];
    struct sio_server_counters c;
    int shutting_down;
    lws_sorted_usec_list_t service_sul;   /* bounds sio_server_service()'s wait */
    struct eio_timerq tq_connect;  /* connect timeouts, one length (eio_timer.h) */
    struct eio_timerq tq_reap;     /* sockets to free on the next turn */
    /* attachments of the event being delivered (sio_socket_attachments):
     * one event at a time is delivered on a worker's thread */
    const struct sio_attachment *cur_att;
    size_t cur_natt;
    struct ev_loop *loop;         /* the libev loop lws runs on (ours: a foreign loop) */
    ev_check turn_end;            /* ends lws_service() after one loop turn */
    void *foreign_loops[1];
};

/* sio_socket.c */
struct sio_socket *sio_socket_new(struct sio_client *c, const char *nsp);
/* Leaves every room, calls on_disconnect when it was connected, frees. */
void sio_socket_free(struct sio_socket *s, const char *reason, int notify);
/* Queues a ready Engine.IO buffer to s (held while connecting). */
int sio_socket_queue(struct sio_socket *s, struct eio_buf *b);
/* Sends what on_connect queued, after the CONNECT reply. */
void sio_socket_release_held(struct sio_socket *s);
void sio_rooms_free(struct sio_server *server);
void sio_count_out(struct sio_server *server);

#endif
