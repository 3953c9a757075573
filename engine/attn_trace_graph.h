/* JSON form of a trace's graph section (the struct and its helpers are in attn_trace.h);
 * used by attn_trace_json.c. */
#ifndef ATTN_TRACE_GRAPH_H
#define ATTN_TRACE_GRAPH_H

#include <cjson/cJSON.h>

#include "attn_trace.h"

/* The "graph" object; NULL when out of memory. */
cJSON *attn_trace_graph_to_json(const attn_trace_graph *g);
/* Reads the "graph" object o into t->graph (replacing it); checks every index and class. */
attn_status attn_trace_graph_from_json(const cJSON *o, attn_trace *t, attn_error *err);

#endif
