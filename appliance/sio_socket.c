/* sio_socket.c -- Socket.IO sockets: emitting, acks, rooms, broadcast. */
#include "sio_internal.h"

#include <stdlib.h>
#include <string.h>

#include "stats.h"

void sio_count_out(struct sio_server *server)
{
    server->c.packets_out++;
    if (server->o.stats)
        server->o.stats->messages_out++;
}

struct sio_socket *sio_socket_new(struct sio_client *c, const char *nsp)
{
    struct sio_socket *s;
    char *const *n;

    /* Point at the server's copy of the name rather than hold one per
     * socket: only allowed namespaces get a socket. */
    for (n = c->server->namespaces; *n; n++)
        if (strcmp(*n, nsp) == 0)
            break;
    if (*n == NULL || (s = calloc(1, sizeof(*s))) == NULL)
        return NULL;
    s->nsp = *n;
    s->server = c->server;
    s->client = c;
    eio_random_id(s->id, SIO_ID_LEN);
    s->next = c->sockets;
    c->sockets = s;
    return s;
}

int sio_socket_queue(struct sio_socket *s, struct eio_buf *b)
{
    int r;

    if (s->disconnecting || eio_session_is_closing(s->client->eio))
        return SIO_ECLOSED;
    if (s->connecting) {
        struct eio_buf **nh = realloc(s->held, ((size_t)s->nheld + 1) * sizeof(*nh));

        if (nh == NULL)
            return SIO_ENOMEM;
        s->held = nh;
        eio_buf_ref(b);
        s->held[s->nheld++] = b;
        return SIO_OK;
    }
    r = eio_session_send_buf(s->client->eio, b);
    if (r == -2)
        return SIO_EQUEUEFULL;
    if (r < 0)
        return SIO_ECLOSED;
    sio_count_out(s->server);
    return SIO_OK;
}

void sio_socket_release_held(struct sio_socket *s)
{
    uint32_t i;

    s->connecting = 0;
    for (i = 0; i < s->nheld; i++) {
        sio_socket_queue(s, s->held[i]);
        eio_buf_unref(s->held[i]);
    }
    free(s->held);
    s->held = NULL;
    s->nheld = 0;
}

/* -- emitting ---------------------------------------------------------------- */

int sio_socket_emit_raw(struct sio_socket *s, const char *event, const char *json, size_t len)
{
    size_t need;
    struct eio_buf *b;
    int n, r;

    if (s == NULL || event == NULL || event[0] == '\0')
        return SIO_EINVAL;
    if (json == NULL)
        len = 0;
    need = sio_event_raw_len(s->nsp, event, len, -1, 1);
    b = eio_buf_new(need, 0);
    if (b == NULL)
        return SIO_ENOMEM;
    n = sio_encode_event_raw(s->nsp, event, json, len, -1, 1, eio_buf_payload(b), need);
    if (n < 0) {
        eio_buf_unref(b);
        return SIO_EINVAL;
    }
    b->len = (size_t)n;
    r = sio_socket_queue(s, b);
    eio_buf_unref(b);
    return r;
}

int sio_socket_emit(struct sio_socket *s, const char *event, const cJSON *arg)
{
    char *json;
    int r;

    if (arg == NULL)
        return sio_socket_emit_raw(s, event, NULL, 0);
    json = cJSON_PrintUnformatted(arg);
    if (json == NULL)
        return SIO_ENOMEM;
    r = sio_socket_emit_raw(s, event, json, strlen(json));
    free(json);
    return r;
}

int sio_socket_send_packet(struct sio_socket *s, int is_ack, long ack_id, const cJSON *data,
                           const struct sio_attachment *att, size_t natt)
{
    enum sio_packet_type type;
    struct eio_buf *b;
    char *pkt;
    size_t len, i;
    int r;

    if (s == NULL || (is_ack && ack_id < 0) || (data && !cJSON_IsArray(data)))
        return SIO_EINVAL;
    type = is_ack ? (natt ? SIO_BINARY_ACK : SIO_ACK) : (natt ? SIO_BINARY_EVENT : SIO_EVENT);
    pkt = sio_encode_alloc(type, s->nsp, (long)natt, is_ack ? ack_id : -1, data, 1, &len);
    if (pkt == NULL)
        return SIO_ENOMEM;
    b = eio_buf_new(len, 0);
    if (b == NULL) {
        free(pkt);
        return SIO_ENOMEM;
    }
    memcpy(eio_buf_payload(b), pkt, len);
    free(pkt);
    r = sio_socket_queue(s, b);
    eio_buf_unref(b);
    for (i = 0; r == SIO_OK && i < natt; i++) {
        b = eio_buf_new(att[i].len, 1);
        if (b == NULL)
            return SIO_ENOMEM;
        memcpy(eio_buf_payload(b), att[i].data, att[i].len);
        r = sio_socket_queue(s, b);
        eio_buf_unref(b);
    }
    return r;
}

int sio_socket_ack(struct sio_socket *s, long ack_id, const cJSON *args)
{
    cJSON *empty = NULL;
    int r;

    if (args == NULL) {
        empty = cJSON_CreateArray();
        if (empty == NULL)
            return SIO_ENOMEM;
        args = empty;
    }
    r = sio_socket_send_packet(s, 1, ack_id, args, NULL, 0);
    cJSON_Delete(empty);
    return r;
}

const struct sio_attachment *sio_socket_attachments(const struct sio_socket *s, size_t *count)
{
    *count = s->server->cur_natt;
    return s->server->cur_att;
}

/* -- rooms ---------------------------------------------------------------------- */

static unsigned room_hash(const char *name)
{
    unsigned h = 2166136261u;

    while (*name)
        h = (h ^ (unsigned char)*name++) * 16777619u;
    return h % SIO_ROOM_BUCKETS;
}

static struct sio_room *room_find(struct sio_server *server, const char *name)
{
    struct sio_room *r;

    for (r = server->rooms[room_hash(name)]; r; r = r->next)
        if (strcmp(r->name, name) == 0)
            return r;
    return NULL;
}

static void room_drop_if_empty(struct sio_server *server, struct sio_room *room)
{
    struct sio_room **pp = &server->rooms[room_hash(room->name)];

    if (room->n > 0)
        return;
    while (*pp && *pp != room)
        pp = &(*pp)->next;
    if (*pp)
        *pp = room->next;
    free(room->members);
    free(room->name);
    free(room);
}

int sio_socket_in_room(const struct sio_socket *s, const char *room)
{
    uint32_t i;

    if (s == NULL || room == NULL)
        return 0;
    for (i = 0; i < s->nrooms; i++)
        if (strcmp(s->rooms[i].room->name, room) == 0)
            return 1;
    return 0;
}

int sio_socket_join(struct sio_socket *s, const char *name)
{
    struct sio_server *server;
    struct sio_room *room;

    if (s == NULL || name == NULL || name[0] == '\0')
        return SIO_EINVAL;
    if (sio_socket_in_room(s, name))
        return SIO_OK;
    server = s->server;
    room = room_find(server, name);
    if (room == NULL) {
        unsigned h = room_hash(name);

        room = calloc(1, sizeof(*room));
        if (room == NULL || (room->name = strdup(name)) == NULL) {
            free(room);
            return SIO_ENOMEM;
        }
        room->next = server->rooms[h];
        server->rooms[h] = room;
    }
    if (room->n == room->cap) {
        size_t ncap = room->cap ? room->cap * 2 : 16;
        struct sio_socket **nm = realloc(room->members, ncap * sizeof(*nm));

        if (nm == NULL) {
            room_drop_if_empty(server, room);
            return SIO_ENOMEM;
        }
        room->members = nm;
        room->cap = ncap;
    }
    if (s->nrooms == s->rooms_cap) {
        /* Starts at one: an agent joins one room, a dashboard one. */
        size_t ncap = s->rooms_cap ? (size_t)s->rooms_cap * 2 : 1;
        struct sio_membership *nr = realloc(s->rooms, ncap * sizeof(*nr));

        if (nr == NULL) {
            room_drop_if_empty(server, room);
            return SIO_ENOMEM;
        }
        s->rooms = nr;
        s->rooms_cap = (uint32_t)ncap;
    }
    s->rooms[s->nrooms].room = room;
    s->rooms[s->nrooms].idx = room->n;
    s->nrooms++;
    room->members[room->n++] = s;
    return SIO_OK;
}

/* Removes membership i of s: swap-removes s from the room, fixing the
 * moved member's index. */
static void leave_at(struct sio_socket *s, uint32_t i)
{
    struct sio_room *room = s->rooms[i].room;
    size_t idx = s->rooms[i].idx;
    struct sio_socket *moved = room->members[room->n - 1];

    room->members[idx] = moved;
    room->n--;
    if (moved != s) {
        uint32_t k;

        for (k = 0; k < moved->nrooms; k++)
            if (moved->rooms[k].room == room) {
                moved->rooms[k].idx = idx;
                break;
            }
    }
    s->rooms[i] = s->rooms[s->nrooms - 1];
    s->nrooms--;
    room_drop_if_empty(s->server, room);
}

int sio_socket_leave(struct sio_socket *s, const char *name)
{
    uint32_t i;

    if (s == NULL || name == NULL)
        return SIO_EINVAL;
    for (i = 0; i < s->nrooms; i++)
        if (strcmp(s->rooms[i].room->name, name) == 0) {
            leave_at(s, i);
            return SIO_OK;
        }
    return SIO_OK;
}

size_t sio_server_room_size(struct sio_server *server, const char *name)
{
    struct sio_room *room = name ? room_find(server, name) : NULL;

    return room ? room->n : 0;
}

int sio_server_room_emit_raw(struct sio_server *server, const char *name,
                             const char *event, const char *json, size_t len)
{
    struct sio_room *room;
    struct eio_buf *root = NULL;
    struct sio_socket **snapshot;
    size_t i, n;
    int sent = 0;

    if (server == NULL || name == NULL || event == NULL || event[0] == '\0')
        return SIO_EINVAL;
    if (json == NULL)
        len = 0;
    room = room_find(server, name);
    if (room == NULL || room->n == 0)
        return 0;
    /* Members can be dropped while we go (a full queue only schedules the
     * drop, but stay safe): walk a snapshot. */
    n = room->n;
    snapshot = malloc(n * sizeof(*snapshot));
    if (snapshot == NULL)
        return SIO_ENOMEM;
    memcpy(snapshot, room->members, n * sizeof(*snapshot));
    for (i = 0; i < n; i++) {
        struct sio_socket *s = snapshot[i];

        if (strcmp(s->nsp, "/") == 0) {
            /* Encoded once for the whole room, shared by reference. */
            if (root == NULL) {
                size_t need = sio_event_raw_len("/", event, len, -1, 1);
                int k;

                root = eio_buf_new(need, 0);
                if (root == NULL)
                    break;
                k = sio_encode_event_raw("/", event, json, len, -1, 1, eio_buf_payload(root), need);
                if (k < 0) {
                    eio_buf_unref(root);
                    free(snapshot);
                    return SIO_EINVAL;
                }
                root->len = (size_t)k;
            }
            if (sio_socket_queue(s, root) == SIO_OK)
                sent++;
        } else if (sio_socket_emit_raw(s, event, json, len) == SIO_OK) {
            sent++;
        }
    }
    eio_buf_unref(root);
    free(snapshot);
    return sent;
}

void sio_rooms_free(struct sio_server *server)
{
    size_t i;

    for (i = 0; i < SIO_ROOM_BUCKETS; i++) {
        while (server->rooms[i]) {
            struct sio_room *r = server->rooms[i];

            server->rooms[i] = r->next;
            free(r->members);
            free(r->name);
            free(r);
        }
    }
}

/* -- lifetime and accessors ------------------------------------------------------ */

void sio_socket_free(struct sio_socket *s, const char *reason, int notify)
{
    struct sio_client *c = s->client;
    struct sio_socket **pp = &c->sockets;
    uint32_t i;

    while (*pp && *pp != s)
        pp = &(*pp)->next;
    if (*pp)
        *pp = s->next;
    if (notify) {
        s->server->c.sockets--;
        if (s->server->h.on_disconnect)
            s->server->h.on_disconnect(s, reason, s->server->o.user);
    }
    /* After on_disconnect, so the handler still sees the rooms it joined. */
    while (s->nrooms)
        leave_at(s, s->nrooms - 1);
    for (i = 0; i < s->nheld; i++)
        eio_buf_unref(s->held[i]);
    free(s->held);
    free(s->rooms);
    free(s);
}

void sio_socket_set_user(struct sio_socket *s, void *user) { s->user = user; }
void *sio_socket_get_user(const struct sio_socket *s) { return s->user; }
const char *sio_socket_id(const struct sio_socket *s) { return s->id; }
const char *sio_socket_sid(const struct sio_socket *s) { return eio_session_sid(s->client->eio); }
const char *sio_socket_nsp(const struct sio_socket *s) { return s->nsp; }
void sio_socket_allow_backlog(struct sio_socket *s, size_t bytes)
{
    if (s != NULL && s->client != NULL)
        eio_session_allow_backlog(s->client->eio, bytes);
}

const char *sio_socket_peer_ip(const struct sio_socket *s) { return eio_session_peer_ip(s->client->eio); }
const char *sio_socket_transport(const struct sio_socket *s) { return eio_session_transport(s->client->eio); }
struct sio_server *sio_socket_server(const struct sio_socket *s) { return s->server; }
