/* agent_client.h -- the agent's Socket.IO client on libwebsockets.
 *
 * One WebSocket connection to <server>/socket.io/?EIO=4&transport=websocket
 * (Engine.IO v4, Socket.IO v5, namespace "/"), driven by one lws event loop
 * in the calling thread:
 *
 *   connect -> Engine.IO OPEN -> send CONNECT "/" -> CONNECT ack
 *     -> emit clientAuth(key) -> emit initPerfData(sample)
 *     -> emit perfData(sample) at start + k*interval (absolute deadlines)
 *   server PING -> PONG; nothing heard for pingInterval+pingTimeout -> drop
 *   connection lost -> reconnect after min(30 s, 0.5 s * 2^n) * [0.5, 1)
 *   clientAuth carries ack id 0: PerfLoad's appliance acks a good key.
 *   server DISCONNECT before that ack and within AGENT_AUTH_WINDOW_S of
 *     clientAuth, on two connections in a row (a stopping server also
 *     sends DISCONNECT) -> the key was refused: stop with
 *     AGENT_EXIT_KEY_REFUSED, no retry loop.
 *
 * Samples come from agent_proc; their JSON is written into buffers owned by
 * this module, so the steady state allocates nothing per sample. */
#ifndef PERFLOAD_AGENT_CLIENT_H
#define PERFLOAD_AGENT_CLIENT_H

#include "agent_cli.h"
#include "agent_proc.h"

/* A DISCONNECT this soon after clientAuth is the server refusing the key
 * (DESIGN.md §3: a wrong key gets DISCONNECT, then close). */
#define AGENT_AUTH_WINDOW_S 5.0
#define AGENT_BACKOFF_BASE_S 0.5
#define AGENT_BACKOFF_CAP_S 30.0

/* Runs until SIGINT/SIGTERM (returns AGENT_EXIT_OK), a refused key
 * (AGENT_EXIT_KEY_REFUSED) or a setup failure (AGENT_EXIT_ERROR). */
int agent_client_run(const struct agent_options *opt, struct agent_proc *proc);

/* The reconnect delay before attempt n (0-based), given a uniform random
 * value r in [0, 1): "equal jitter", so the delay is never below half the
 * exponential step and never above the cap. */
double agent_backoff_delay(unsigned attempt, double r);

#endif
