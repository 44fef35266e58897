/* What the `channel` capability offers the `task` capability: the endpoint pair a spawn creates. */
#ifndef COHESIX_BINDINGS_CHANNEL_H
#define COHESIX_BINDINGS_CHANNEL_H

#include "task_table.h"

/* Creates the endpoint pair between two live tasks; returns a's endpoint index or -1. */
int channel_link(TaskSlot *a, TaskSlot *b, int b_ep);
/* Records that `to` gained endpoint ep leading to peer; delivered as channel.onLink. */
void channel_note_link(TaskSlot *to, int ep, uint32_t peer_id);

#endif
